/**
 * A reason the process cannot start that the operator has to fix: its message names the
 * dependency or setting and says what to do, in one line. Logged without a stack trace.
 */
export class StartupError extends Error {
  override name = "StartupError";
}
