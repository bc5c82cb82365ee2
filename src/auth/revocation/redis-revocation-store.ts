import { Redis } from "ioredis";
import { ServiceUnavailableError } from "../../errors/errors.js";
import type { RevocationStore } from "./revocation-store.js";

export const defaultRedisTimeoutMs = 2_000;

/**
 * Shared by every instance. Keys carry the TTL of what they guard, so Redis never grows without
 * bound; commands fail fast while Redis is unreachable instead of queueing behind the request.
 */
export class RedisRevocationStore implements RevocationStore {
  readonly kind = "redis";

  private constructor(
    readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** `timeoutMs` bounds connecting and every command: a Redis that hangs fails the request, not stalls it. */
  static async connect(url: string, prefix: string, timeoutMs = defaultRedisTimeoutMs): Promise<RedisRevocationStore> {
    const redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    // Connection errors surface on the commands that need Redis; the client keeps reconnecting.
    redis.on("error", () => {});
    await redis.connect();
    return new RedisRevocationStore(redis, prefix);
  }

  key(kind: "session" | "hits", id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }

  async revokeSessions(sessionIds: readonly string[], ttlSeconds: number): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.reach(async () => {
      const pipeline = this.redis.multi();
      for (const id of sessionIds) pipeline.set(this.key("session", id), "1", "EX", Math.max(1, Math.ceil(ttlSeconds)));
      const results = await pipeline.exec();
      const failure = results?.find(([error]) => error);
      if (!results || failure) throw failure?.[0] ?? new Error("Redis transaction aborted");
    });
  }

  async isSessionRevoked(sessionId: string): Promise<boolean> {
    return this.reach(async () => (await this.redis.exists(this.key("session", sessionId))) === 1);
  }

  async hit(key: string, windowSeconds: number): Promise<{ count: number; resetInSeconds: number }> {
    const redisKey = this.key("hits", key);
    return this.reach(async () => {
      // NX: the window starts with the first hit and is not extended by later ones.
      const results = await this.redis.multi().incr(redisKey).expire(redisKey, windowSeconds, "NX").ttl(redisKey).exec();
      if (!results || results.some(([error]) => error)) throw new Error("Redis transaction failed");
      return { count: results[0]![1] as number, resetInSeconds: Math.max(1, results[2]![1] as number) };
    });
  }

  async ping(): Promise<void> {
    await this.reach(() => this.redis.ping());
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private async reach<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new ServiceUnavailableError("revocation-store", error);
    }
  }
}
