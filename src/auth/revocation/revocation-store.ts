/**
 * Where ended sessions are remembered until every access token they issued has expired, so that
 * a logout takes effect on the very next request, on every instance that shares the store.
 *
 * PostgreSQL is the source of truth (`sessions.revoked_at`); the store is a cache of the sessions
 * ended within the access-token lifetime. A store can lose its data (a restart without
 * persistence, FLUSHALL, a failover to a replica that had not caught up), so it says whether it
 * holds the current set: only a completed rebuild from PostgreSQL marks it so, and the mark goes
 * with the data.
 */
export interface RevocationStore {
  readonly kind: "redis" | "memory";
  /** Remembers the sessions as ended for `ttlSeconds` (the longest remaining access-token lifetime). */
  revokeSessions(sessionIds: readonly string[], ttlSeconds: number): Promise<void>;
  /** One round trip. "unknown": the store does not hold the current set and must be rebuilt first. */
  sessionRevocation(sessionId: string): Promise<SessionRevocation>;
  /** The first step of a rebuild; the ticket loses its value if the store loses data meanwhile, or another rebuild starts. */
  beginRebuild(): Promise<RebuildTicket>;
  /** Stores the rebuilt entries and marks the set current, unless the ticket lost its value (false then). */
  completeRebuild(ticket: RebuildTicket, entries: readonly RevocationEntry[]): Promise<boolean>;
  /** Counts an event in a fixed window that starts with the first hit; the count so far. */
  hit(key: string, windowSeconds: number): Promise<Counter>;
  /** The counters as they stand, without counting (count 0 for an absent one); one round trip. */
  counters(keys: readonly string[]): Promise<Counter[]>;
  /** Takes back one hit of a counter that still exists (never creates one). */
  unhit(key: string): Promise<void>;
  /** Deletes counters. */
  forget(keys: readonly string[]): Promise<void>;
  /** Keeps `value` under `key` for `ttlSeconds`, replacing what was there, for one `takeOnce`. */
  putOnce(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** The value under `key`, deleted in the same step: of concurrent takes, one gets it, the others null. Null when absent or expired. */
  takeOnce(key: string): Promise<string | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type SessionRevocation = "revoked" | "live" | "unknown";

export interface Counter {
  count: number;
  /** Seconds until the window ends; 0 for an absent counter. */
  resetInSeconds: number;
}

export interface RevocationEntry {
  sessionId: string;
  ttlSeconds: number;
}

/** Opaque to callers. */
export interface RebuildTicket {
  readonly id: string;
}
