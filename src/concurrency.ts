/** A task refused because the queue of tasks waiting their turn is full, or it waited too long. */
export class QueueFullError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "QueueFullError";
  }
}

export interface QueueBounds {
  /** Tasks that may wait; past them a task is refused at once. */
  maxWaiting?: number;
  /** How long a task may wait for its turn before it is refused. */
  maxWaitMs?: number;
}

/**
 * Runs at most `limit` tasks at a time; the others wait their turn in arrival order, within
 * `bounds`: past them a task fails with QueueFullError, so that a burst costs callers a fast
 * refusal rather than an ever longer wait.
 */
export function concurrencyLimit(
  limit: number,
  { maxWaiting = Number.POSITIVE_INFINITY, maxWaitMs = Number.POSITIVE_INFINITY }: QueueBounds = {},
) {
  let running = 0;
  const waiting: (() => void)[] = [];
  const turn = () =>
    new Promise<void>((resolve, reject) => {
      const timer = Number.isFinite(maxWaitMs)
        ? setTimeout(() => {
            waiting.splice(waiting.indexOf(start), 1);
            reject(new QueueFullError(`no free slot within ${maxWaitMs} ms`));
          }, maxWaitMs)
        : undefined;
      const start = () => {
        clearTimeout(timer);
        resolve();
      };
      waiting.push(start);
    });
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) {
      if (waiting.length >= maxWaiting) throw new QueueFullError(`${waiting.length} tasks are already waiting`);
      await turn();
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
