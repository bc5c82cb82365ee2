import { signWebhook } from "./webhook-signature.js";
import { DeliveryError, type DeliveryChannel } from "./delivery-channel.js";
import type { OutboxMessageRow } from "./delivery-store.js";

/**
 * POSTs each event to one URL with the Standard Webhooks headers: `webhook-id` (the event id,
 * the same on every attempt), `webhook-timestamp` (the attempt's, in seconds) and
 * `webhook-signature`. Any 2xx answer delivers it; anything else, no answer within the timeout
 * included, is tried again later. Redirects are not followed.
 */
export class WebhookChannel implements DeliveryChannel {
  private readonly url: string;
  private readonly authorization: string | undefined;

  constructor(
    url: string,
    private readonly keys: readonly Buffer[],
    readonly limitMs: number,
  ) {
    // fetch refuses URLs with credentials: they travel as Basic authentication instead.
    const parsed = new URL(url);
    this.authorization =
      parsed.username || parsed.password
        ? `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString("base64")}`
        : undefined;
    parsed.username = "";
    parsed.password = "";
    this.url = parsed.toString();
  }

  async deliver(message: OutboxMessageRow, signal: AbortSignal): Promise<void> {
    const body = message.body ?? "";
    // The receiver compares it with its own clock: the real time, whatever the service's clock says.
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await fetch(this.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.limitMs)]),
      headers: {
        "content-type": "application/json",
        "user-agent": "users-subgraph-webhooks",
        "webhook-id": message.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signWebhook(this.keys, message.id, timestamp, body),
        ...(this.authorization ? { authorization: this.authorization } : {}),
      },
      body,
    });
    // The answer's body is not read: nothing in it changes what happens next.
    await response.body?.cancel().catch(() => {});
    if (response.status < 200 || response.status > 299) throw new DeliveryError(`HTTP ${response.status}`);
  }

  async close(): Promise<void> {}
}
