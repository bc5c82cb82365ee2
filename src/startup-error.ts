/**
 * A reason the process cannot start that the operator has to fix: its message names the
 * dependency or setting and says what to do, in one line. Logged without a stack trace.
 */
export class StartupError extends Error {
  override name = "StartupError";
}

/** The first line of an error's message, for a one-line start-up report. */
export function reasonOf(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0]!;
}
