/**
 * Logs the first of a run of identical events at once, then at most one line per interval saying
 * how many more there were: an outage of thirty seconds is a handful of lines, not one per request.
 */
export function createLogThrottle(intervalMs: number) {
  const open = new Map<string, { repeated: number; logRepeated: (repeated: number) => void }>();
  return (key: string, log: (repeated: number) => void): void => {
    const run = open.get(key);
    if (run) {
      run.repeated++;
      run.logRepeated = log;
      return;
    }
    log(0);
    const started = { repeated: 0, logRepeated: log };
    open.set(key, started);
    setTimeout(() => {
      open.delete(key);
      if (started.repeated > 0) started.logRepeated(started.repeated);
    }, intervalMs).unref();
  };
}
