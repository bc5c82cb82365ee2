/**
 * Where ended sessions are remembered until every access token they issued has expired, so that
 * a logout takes effect on the very next request, on every instance that shares the store.
 */
export interface RevocationStore {
  readonly kind: "redis" | "memory";
  /** Remembers the sessions as ended for `ttlSeconds` (the longest remaining access-token lifetime). */
  revokeSessions(sessionIds: readonly string[], ttlSeconds: number): Promise<void>;
  /** One round trip. */
  isSessionRevoked(sessionId: string): Promise<boolean>;
  /** Counts an event in a fixed window; returns the count so far and the seconds until the window ends. */
  hit(key: string, windowSeconds: number): Promise<{ count: number; resetInSeconds: number }>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
