import { randomUUID } from "node:crypto";
import { systemClock, type Clock } from "../../clock.js";
import type { RebuildTicket, RevocationEntry, RevocationStore, SessionRevocation } from "./revocation-store.js";

interface Entry {
  count: number;
  expiresAt: number;
}

/**
 * The embedded default for a single process: entries expire like Redis keys with a TTL. It starts
 * empty with every process, so it is not current until rebuilt from PostgreSQL.
 */
export class MemoryRevocationStore implements RevocationStore {
  readonly kind = "memory";
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;
  private current = false;
  private rebuild: string | undefined;

  constructor(private readonly clock: Clock = systemClock) {
    // Expired entries would otherwise only go when read again.
    this.sweeper = setInterval(() => this.sweep(), 60_000).unref();
  }

  async revokeSessions(sessionIds: readonly string[], ttlSeconds: number): Promise<void> {
    const expiresAt = this.clock.now().getTime() + ttlSeconds * 1000;
    for (const id of sessionIds) this.entries.set(`session:${id}`, { count: 1, expiresAt });
  }

  async sessionRevocation(sessionId: string): Promise<SessionRevocation> {
    if (!this.current) return "unknown";
    return this.live(`session:${sessionId}`) ? "revoked" : "live";
  }

  async beginRebuild(): Promise<RebuildTicket> {
    this.rebuild = randomUUID();
    return { id: this.rebuild };
  }

  async completeRebuild(ticket: RebuildTicket, entries: readonly RevocationEntry[]): Promise<boolean> {
    if (ticket.id !== this.rebuild) return false;
    for (const { sessionId, ttlSeconds } of entries) await this.revokeSessions([sessionId], ttlSeconds);
    this.current = true;
    this.rebuild = undefined;
    return true;
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
