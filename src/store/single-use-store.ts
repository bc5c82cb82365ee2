/**
 * Values kept for one taker only, shared by every instance that shares the store: a challenge
 * awaiting its answer is begun on one instance and may be answered on another, once.
 */
export interface SingleUseStore {
  /**
   * Keeps `value` under `key` for `ttlSeconds`, replacing what was there, for one `take`
   * (a challenge awaiting its answer, a sign-in under way with a provider).
   */
  put(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** The value under `key`, removed in the same step: of concurrent takes, one gets it. Null when absent or expired. */
  take(key: string): Promise<string | null>;
}
