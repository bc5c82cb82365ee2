/**
 * Counters in fixed windows, shared by every instance that shares the store: what the rate limits
 * count (password attempts, mail requests, second-factor codes). Keys expire with their window.
 */
export interface CounterStore {
  /** Counts an event in a fixed window that starts with the first hit; the count so far. */
  hit(key: string, windowSeconds: number): Promise<Counter>;
  /** The counters as they stand, without counting (count 0 for an absent one); one round trip. */
  counters(keys: readonly string[]): Promise<Counter[]>;
  /** Takes back one hit of a counter that still exists (never creates one). */
  unhit(key: string): Promise<void>;
  /** Deletes counters. */
  forget(keys: readonly string[]): Promise<void>;
}

export interface Counter {
  count: number;
  /** Seconds until the window ends; 0 for an absent counter. */
  resetInSeconds: number;
}
