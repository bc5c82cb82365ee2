import { randomUUID } from "node:crypto";
import { systemClock, type Clock } from "../../clock.js";
import type { Counter, RebuildTicket, RevocationEntry, RevocationStore, SessionRevocation } from "./revocation-store.js";

interface Entry {
  count: number;
  expiresAt: number;
}

interface SingleUseEntry {
  value: string;
  expiresAt: number;
}

/**
 * Counters are what strangers create (one per login name or address they try): beyond this many,
 * the oldest go first. About 270 bytes each as measured (with 40-character names), so ≈ 27 MB at most.
 * Single-use values (passkey challenges, sign-ins under way with a provider) have a cap of the same size of their own.
 */
export const defaultMaxCounters = 100_000;

/**
 * The embedded default for a single process: entries expire like Redis keys with a TTL. It starts
 * empty with every process, so it is not current until rebuilt from PostgreSQL.
 *
 * Revocations are never evicted (each needs an authenticated session to end, and lives at most
 * one access-token lifetime); counters and single-use values, which strangers can create, are capped.
 */
export class MemoryRevocationStore implements RevocationStore {
  readonly kind = "memory";
  private readonly revocations = new Map<string, number>();
  private readonly counterEntries = new Map<string, Entry>();
  private readonly singleUseEntries = new Map<string, SingleUseEntry>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly maxCounters: number;
  private current = false;
  private rebuild: string | undefined;

  constructor(
    private readonly clock: Clock = systemClock,
    options: { maxCounters?: number } = {},
  ) {
    this.maxCounters = options.maxCounters ?? defaultMaxCounters;
    // Expired entries would otherwise only go when read again.
    this.sweeper = setInterval(() => this.sweep(), 60_000).unref();
  }

  async revokeSessions(sessionIds: readonly string[], ttlSeconds: number): Promise<void> {
    const expiresAt = this.now() + ttlSeconds * 1000;
    for (const id of sessionIds) this.revocations.set(id, expiresAt);
  }

  async sessionRevocation(sessionId: string): Promise<SessionRevocation> {
    if (!this.current) return "unknown";
    const expiresAt = this.revocations.get(sessionId);
    return expiresAt !== undefined && expiresAt > this.now() ? "revoked" : "live";
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

  async hit(key: string, windowSeconds: number): Promise<Counter> {
    const now = this.now();
    let entry = this.liveCounter(key);
    if (!entry) {
      makeRoom(this.counterEntries, this.maxCounters);
      entry = { count: 0, expiresAt: now + windowSeconds * 1000 };
      this.counterEntries.set(key, entry);
    }
    entry.count++;
    return { count: entry.count, resetInSeconds: Math.ceil((entry.expiresAt - now) / 1000) };
  }

  async counters(keys: readonly string[]): Promise<Counter[]> {
    const now = this.now();
    return keys.map((key) => {
      const entry = this.liveCounter(key);
      return entry ? { count: entry.count, resetInSeconds: Math.ceil((entry.expiresAt - now) / 1000) } : { count: 0, resetInSeconds: 0 };
    });
  }

  async unhit(key: string): Promise<void> {
    const entry = this.liveCounter(key);
    if (entry) entry.count--;
  }

  async forget(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.counterEntries.delete(key);
  }

  async putOnce(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.singleUseEntries.delete(key);
    makeRoom(this.singleUseEntries, this.maxCounters);
    this.singleUseEntries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
  }

  async takeOnce(key: string): Promise<string | null> {
    const entry = this.singleUseEntries.get(key);
    this.singleUseEntries.delete(key);
    return entry && entry.expiresAt > this.now() ? entry.value : null;
  }

  /** Seconds until a counter, revocation or single-use value expires, as Redis's TTL answers: -2 when absent. */
  async ttl(kind: "session" | "hits" | "once", key: string): Promise<number> {
    const expiresAt =
      kind === "session" ? this.revocations.get(key) : kind === "once" ? this.singleUseEntries.get(key)?.expiresAt : this.liveCounter(key)?.expiresAt;
    return expiresAt !== undefined && expiresAt > this.now() ? Math.ceil((expiresAt - this.now()) / 1000) : -2;
  }

  /** How many counters it holds, expired ones not yet swept included. */
  get counterCount(): number {
    return this.counterEntries.size;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.revocations.clear();
    this.counterEntries.clear();
    this.singleUseEntries.clear();
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private liveCounter(key: string): Entry | undefined {
    const entry = this.counterEntries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.counterEntries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, expiresAt] of this.revocations) if (expiresAt <= now) this.revocations.delete(id);
    for (const [key, entry] of this.counterEntries) if (entry.expiresAt <= now) this.counterEntries.delete(key);
    for (const [key, entry] of this.singleUseEntries) if (entry.expiresAt <= now) this.singleUseEntries.delete(key);
  }
}

/**
 * Before a new entry, while full: the oldest goes (Maps keep insertion order). Constant time, so
 * a flood costs no more per entry when full; expired entries go with the periodic sweep.
 */
function makeRoom(entries: Map<string, unknown>, max: number): void {
  for (const key of entries.keys()) {
    if (entries.size < max) break;
    entries.delete(key);
  }
}
