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
 * Runs at most `limit` tasks at a time; the others wait their turn within `bounds`: past them a
 * task fails with QueueFullError, so that a burst costs callers a fast refusal rather than an ever
 * longer wait. Each task names a lane (0 by default): a free slot goes to the oldest task of the
 * lowest lane that has one, and each lane has its own `maxWaiting`, so that a burst in one lane
 * neither fills another's queue nor delays it by more than one running task.
 */
export function concurrencyLimit(
  limit: number,
  { maxWaiting = Number.POSITIVE_INFINITY, maxWaitMs = Number.POSITIVE_INFINITY }: QueueBounds = {},
) {
  let running = 0;
  const lanes: (() => void)[][] = [];
  const turn = (waiting: (() => void)[]) =>
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
  return async <T>(task: () => Promise<T>, lane = 0): Promise<T> => {
    if (running >= limit) {
      const waiting = lanes[lane] ?? [];
      lanes[lane] = waiting;
      if (waiting.length >= maxWaiting) throw new QueueFullError(`${waiting.length} tasks are already waiting`);
      await turn(waiting);
    }
    running++;
    try {
      return await task();
    } finally {
      running--;
      lanes.find((waiting) => waiting?.length)?.shift()?.();
    }
  };
}
