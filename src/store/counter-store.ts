/**
 * Counters in fixed windows, shared by every instance that shares the store: what the rate limits
 * count (password attempts, mail requests, second-factor codes). Keys expire with their window.
 */
export interface CounterStore {
  /** Counts an event in a fixed window that starts with the first hit; the count so far. */
  hit(key: string, windowSeconds: number): Promise<Counter>;
  /**
   * Counts one hit on every key only if none has reached its limit, atomically, in one round trip:
   * concurrent callers cannot overshoot. Answers the limits reached, empty when the hits were counted.
   */
  hitUnlessLimited(hits: readonly LimitedHit[], windowSeconds: number): Promise<ReachedLimit[]>;
  /** Applies the changes that settle an attempt, in one round trip. */
  settle(changes: CounterSettlement): Promise<void>;
}

export interface Counter {
  count: number;
  /** Seconds until the window ends. */
  resetInSeconds: number;
}

export interface LimitedHit {
  key: string;
  /** The count at which the next hit is refused. */
  limit: number;
  /** The limit does not apply while this other counter is above zero. */
  waivedBy?: string;
}

export interface ReachedLimit {
  key: string;
  resetInSeconds: number;
}

export interface CounterSettlement {
  /** Counters deleted: their next hit starts a new window. */
  forget?: readonly string[];
  /** Counters that take one hit back if they still exist (never created doing so). */
  unhit?: readonly string[];
  /** A counter that takes one hit. */
  hit?: { key: string; windowSeconds: number };
}
