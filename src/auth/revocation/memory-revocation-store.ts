import { systemClock, type Clock } from "../../clock.js";
import type { RevocationStore } from "./revocation-store.js";

interface Entry {
  count: number;
  expiresAt: number;
}

/** The embedded default for a single process: entries expire like Redis keys with a TTL. */
export class MemoryRevocationStore implements RevocationStore {
  readonly kind = "memory";
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly clock: Clock = systemClock) {
    // Expired entries would otherwise only go when read again.
    this.sweeper = setInterval(() => this.sweep(), 60_000).unref();
  }

  async revokeSessions(sessionIds: readonly string[], ttlSeconds: number): Promise<void> {
    const expiresAt = this.clock.now().getTime() + ttlSeconds * 1000;
    for (const id of sessionIds) this.entries.set(`session:${id}`, { count: 1, expiresAt });
  }

  async isSessionRevoked(sessionId: string): Promise<boolean> {
    return this.live(`session:${sessionId}`) !== undefined;
  }

  async hit(key: string, windowSeconds: number): Promise<{ count: number; resetInSeconds: number }> {
    const now = this.clock.now().getTime();
    const entry = this.live(`hits:${key}`) ?? { count: 0, expiresAt: now + windowSeconds * 1000 };
    entry.count++;
    this.entries.set(`hits:${key}`, entry);
    return { count: entry.count, resetInSeconds: Math.ceil((entry.expiresAt - now) / 1000) };
  }

  /** Seconds until the key expires, as Redis's TTL answers: -2 when absent. */
  async ttl(key: string): Promise<number> {
    const entry = this.live(key);
    return entry ? Math.ceil((entry.expiresAt - this.clock.now().getTime()) / 1000) : -2;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.clock.now().getTime()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.clock.now().getTime();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
