/** A task refused because the queue of tasks waiting their turn is full. */
export class QueueFullError extends Error {
  constructor(readonly waiting: number) {
    super(`${waiting} tasks are already waiting`);
    this.name = "QueueFullError";
  }
}

/**
 * Runs at most `limit` tasks at a time; the others wait their turn in arrival order. At most
 * `maxWaiting` may wait: past that a task fails at once with QueueFullError, so that a burst costs
 * callers a fast refusal rather than an ever longer wait.
 */
export function concurrencyLimit(limit: number, maxWaiting = Number.POSITIVE_INFINITY) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) {
      if (waiting.length >= maxWaiting) throw new QueueFullError(waiting.length);
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
