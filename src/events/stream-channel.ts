import { createRedisClient, type RedisClient, type RedisTarget } from "../store/redis-connection.js";
import type { DeliveryChannel } from "./delivery-channel.js";
import type { OutboxMessageRow } from "./delivery-store.js";

/**
 * Adds each event to a Redis stream (`XADD … MAXLEN ~ n`), for consumer groups: the entry's fields
 * are `id` (the event id, the key to deduplicate by), `type`, `userId` and `payload` (the JSON body
 * webhooks get). The stream keeps about its last `maxLength` entries.
 */
export class StreamChannel implements DeliveryChannel {
  private readonly redis: RedisClient;

  constructor(
    target: RedisTarget,
    private readonly stream: { key: string; maxLength: number },
    readonly limitMs: number,
  ) {
    // The Redis of the store, however it is reached (one server, a Cluster, Sentinels).
    this.redis = createRedisClient(target, limitMs);
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
