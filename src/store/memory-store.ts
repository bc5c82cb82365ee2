import { randomUUID } from "node:crypto";
import { systemClock, type Clock } from "../clock.js";
import type { Counter, CounterSettlement, LimitedHit, ReachedLimit } from "./counter-store.js";
import type { RebuildTicket, RevocationEntry, SessionRevocation } from "./revocation-store.js";
import type { Store } from "./store.js";

interface Entry {
  count: number;
  expiresAt: number;
}

interface Kept {
  value: string;
  expiresAt: number;
}

/**
 * Strangers create counters (one per login name or address they try): beyond this many,
 * the oldest go first. About 270 bytes each as measured (with 40-character names), so ≈ 27 MB at most.
 * Kept values (challenges) are capped alike.
 */
export const defaultMaxCounters = 100_000;

/**
 * The embedded default for a single process: entries expire like Redis keys with a TTL. It starts
 * empty with every process, so it is not current until rebuilt from PostgreSQL.
 *
 * Revocations are never evicted (each needs an authenticated session to end, and lives at most
 * one access-token lifetime); counters and kept values are capped.
 */
export class MemoryStore implements Store {
  private readonly revocations = new Map<string, number>();
  private readonly counterEntries = new Map<string, Entry>();
  private readonly kept = new Map<string, Kept>();
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
    return this.count(key, windowSeconds);
  }

  async hitUnlessLimited(hits: readonly LimitedHit[], windowSeconds: number): Promise<ReachedLimit[]> {
    const reached = hits.flatMap(({ key, limit, waivedBy }) => {
      const entry = this.liveCounter(key);
      const waived = waivedBy !== undefined && (this.liveCounter(waivedBy)?.count ?? 0) > 0;
      if (waived || (entry?.count ?? 0) < limit) return [];
      return [{ key, resetInSeconds: entry ? Math.ceil((entry.expiresAt - this.now()) / 1000) : 1 }];
    });
    // No await between the check and the counts: concurrent callers cannot overshoot.
    if (reached.length === 0) for (const { key } of hits) this.count(key, windowSeconds);
    return reached;
  }

  async settle({ forget = [], unhit = [], hit }: CounterSettlement): Promise<void> {
    for (const key of forget) this.counterEntries.delete(key);
    for (const key of unhit) {
      const entry = this.liveCounter(key);
      if (entry) entry.count--;
    }
    if (hit) this.count(hit.key, hit.windowSeconds);
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.kept.delete(key);
    this.makeRoom(this.kept);
    this.kept.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
  }

  async take(key: string): Promise<string | null> {
    const kept = this.kept.get(key);
    this.kept.delete(key);
    return kept && kept.expiresAt > this.now() ? kept.value : null;
  }

  /** Seconds until a counter, revocation or kept value expires, as Redis's TTL answers: -2 when absent. */
  async ttl(kind: "session" | "hits" | "once", key: string): Promise<number> {
    const expiresAt =
      kind === "session"
        ? this.revocations.get(key)
        : kind === "once"
          ? this.kept.get(key)?.expiresAt
          : this.liveCounter(key)?.expiresAt;
    return expiresAt !== undefined && expiresAt > this.now() ? Math.ceil((expiresAt - this.now()) / 1000) : -2;
  }

  /** How many counters it holds, expired ones not yet swept included. */
  get counterCount(): number {
    return this.counterEntries.size;
  }

  /** How many values it keeps for a `take`, expired ones not yet swept included. */
  get keptCount(): number {
    return this.kept.size;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.revocations.clear();
    this.counterEntries.clear();
    this.kept.clear();
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private count(key: string, windowSeconds: number): Counter {
    const now = this.now();
    let entry = this.liveCounter(key);
    if (!entry) {
      this.makeRoom(this.counterEntries);
      entry = { count: 0, expiresAt: now + windowSeconds * 1000 };
      this.counterEntries.set(key, entry);
    }
    entry.count++;
    return { count: entry.count, resetInSeconds: Math.ceil((entry.expiresAt - now) / 1000) };
  }

  private liveCounter(key: string): Entry | undefined {
    const entry = this.counterEntries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.counterEntries.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Before a new counter or kept value, while full: the oldest goes (Maps keep insertion order).
   * Constant time, so a flood costs no more per name when full; expired entries go with the periodic sweep.
   */
  private makeRoom(entries: Map<string, unknown>): void {
    for (const key of entries.keys()) {
      if (entries.size < this.maxCounters) break;
      entries.delete(key);
    }
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, expiresAt] of this.revocations) if (expiresAt <= now) this.revocations.delete(id);
    for (const [key, entry] of this.counterEntries) if (entry.expiresAt <= now) this.counterEntries.delete(key);
    for (const [key, kept] of this.kept) if (kept.expiresAt <= now) this.kept.delete(key);
  }
}
