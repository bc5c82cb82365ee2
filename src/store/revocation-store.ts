/**
 * Where ended sessions are remembered until every access token they issued has expired, so that
 * a logout takes effect on the very next request, on every instance that shares the store.
 *
 * PostgreSQL is the source of truth (`sessions.revoked_at`); the store is a cache of the sessions
 * ended within the access-token lifetime. A store can lose its data (a restart without
 * persistence, FLUSHALL, a failover to a replica that had not caught up), so it says whether it
 * holds the current set: only a completed rebuild from PostgreSQL marks it so, and the mark goes
 * with the data. A store spread over several servers (a Redis Cluster) answers it for the part
 * that holds the session asked about: one server losing its data leaves the others current.
 */
export interface RevocationStore {
  /** Remembers the sessions as ended for `ttlSeconds` (the longest remaining access-token lifetime). */
  revokeSessions(sessionIds: readonly string[], ttlSeconds: number): Promise<void>;
  /** One round trip. "unknown": the store does not hold the current set and must be rebuilt first. */
  sessionRevocation(sessionId: string): Promise<SessionRevocation>;
  /** The first step of a rebuild; the ticket loses its value if the store loses data meanwhile, or another rebuild starts. */
  beginRebuild(): Promise<RebuildTicket>;
  /**
   * Stores the rebuilt entries and marks the set current, unless the ticket lost its value (false
   * then; a store spread over servers marks the parts where it kept its value).
   */
  completeRebuild(ticket: RebuildTicket, entries: readonly RevocationEntry[]): Promise<boolean>;
}

export type SessionRevocation = "revoked" | "live" | "unknown";

export interface RevocationEntry {
  sessionId: string;
  ttlSeconds: number;
}

/** Opaque to callers. */
export interface RebuildTicket {
  readonly id: string;
}
