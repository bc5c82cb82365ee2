import type { OutboxMessageRow } from "./delivery-store.js";

/** One way out of the outbox: a webhook URL, the Redis stream, the mail server. */
export interface DeliveryChannel {
  /** The longest one attempt may take; a claim on a delivery outlasts it by a margin. */
  readonly limitMs: number;
  /** Resolves once the receiver has the message; rejects (ideally with a DeliveryError) otherwise. */
  deliver(message: OutboxMessageRow, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * Why an attempt failed, in words safe to store and show admins (no response body, no secret).
 * `permanent`: trying again cannot help (a mail server that refuses the recipient). `logged`: what
 * else the log line may say (a mail's subject).
 */
export class DeliveryError extends Error {
  override name = "DeliveryError";

  constructor(
    message: string,
    readonly permanent = false,
    readonly logged: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The reason of any failure, as a short line: an error code rather than a message that may quote a URL. */
export function failureReason(error: unknown): string {
  if (error instanceof DeliveryError) return error.message;
  if (error instanceof Error && error.name === "TimeoutError") return "no answer in time";
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  const code = (error as { code?: unknown })?.code ?? cause?.code;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.name : "unknown error";
}
