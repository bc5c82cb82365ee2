/** Where user events go (none by default), and how hard the outbox tries; mail uses the same retries. */
export interface EventSettings {
  /** Every event is POSTed to each, signed with `webhookSecrets`. */
  webhookUrls: string[];
  /** `whsec_…` keys, newest first; present whenever `webhookUrls` is not empty. */
  webhookSecrets: Buffer[];
  /** The Redis stream every event is added to, and about how many entries it keeps. */
  stream?: { key: string; maxLength: number };
  /** The longest one webhook request or stream write may take. */
  deliveryTimeoutMs: number;
  /** A delivery (or mail) still failing this long after its action is marked failed. */
  maxAgeSeconds: number;
  /** Delivered and failed deliveries are purged this long after they finished. */
  retentionSeconds: number;
}
