/** The receiver of every mail: the mail server, or `.eml` files in development. */
export const mailReceiver = "mail";

/**
 * How a webhook receiver is named in the outbox, in /metrics and to admins: its URL without
 * credentials, query or fragment, which may hold secrets of the receiver's.
 */
export function webhookReceiverName(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** How the Redis stream is named as a receiver. */
export function streamReceiverName(stream: string): string {
  return `stream:${stream}`;
}

/** Who gets every user event, by receiver name: each webhook URL, then the stream. */
export function eventReceivers(events: { webhookUrls: string[]; stream?: { key: string } }): string[] {
  return [
    ...events.webhookUrls.map(webhookReceiverName),
    ...(events.stream ? [streamReceiverName(events.stream.key)] : []),
  ];
}
