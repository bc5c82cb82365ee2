import { Redis } from "ioredis";
import type { DeliveryChannel } from "./delivery-channel.js";
import type { OutboxMessageRow } from "./delivery-store.js";

/**
 * Adds each event to a Redis stream (`XADD … MAXLEN ~ n`), for consumer groups: the entry's fields
 * are `id` (the event id, the key to deduplicate by), `type`, `userId` and `payload` (the JSON body
 * webhooks get). The stream keeps about its last `maxLength` entries.
 */
export class StreamChannel implements DeliveryChannel {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly stream: { key: string; maxLength: number },
    readonly limitMs: number,
  ) {
    this.redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: limitMs,
      commandTimeout: limitMs,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    // Unreachable, each attempt fails and is tried again later; the client keeps reconnecting.
    this.redis.on("error", () => {});
    this.redis.connect().catch(() => {});
  }

  async deliver(message: OutboxMessageRow): Promise<void> {
    await this.redis.xadd(
      this.stream.key,
      "MAXLEN",
      "~",
      String(this.stream.maxLength),
      "*",
      "id",
      message.id,
      "type",
      message.type,
      "userId",
      message.userId ?? "",
      "payload",
      message.body ?? "",
    );
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
