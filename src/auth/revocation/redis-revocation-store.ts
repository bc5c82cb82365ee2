import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { ServiceUnavailableError } from "../../errors/errors.js";
import { endSpan, startClientSpan } from "../../observability/tracing.js";
import type { Counter, RebuildTicket, RevocationEntry, RevocationStore, SessionRevocation } from "./revocation-store.js";

export const defaultRedisTimeoutMs = 2_000;

interface RedisRebuildTicket extends RebuildTicket {
  /** The Redis server the rebuild read from: the mark it leaves is valid on that server only. */
  runId: string;
}

/** Marks the set current only if this rebuild is still the latest and its key survived (no FLUSHALL, no restart). */
const completeRebuildScript = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
return 1`;

const rebuildEntriesPerRoundTrip = 1000;

/** DECR would create a key without TTL when it has expired meanwhile. */
const unhitScript = `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECR', KEYS[1]) end return 0`;

/**
 * Shared by every instance. Keys carry the TTL of what they guard, so Redis never grows without
 * bound; commands fail fast while Redis is unreachable instead of queueing behind the request.
 *
 * Whether Redis holds the current revocation set: the key `revocations:current` holds the run id
 * of the Redis server on which a rebuild completed. FLUSHALL deletes it; a restarted server (even
 * one that reloaded an older snapshot) or a replica promoted by a failover has another run id. So
 * any of them reads as "unknown" until rebuilt from PostgreSQL.
 */
export class RedisRevocationStore implements RevocationStore {
  readonly kind = "redis";
  private runId: Promise<string> | undefined;

  private constructor(
    readonly redis: Redis,
    private readonly prefix: string,
  ) {
    // The next connection may reach another server (a restart, a failover): ask it again.
    redis.on("close", () => {
      this.runId = undefined;
    });
  }

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
    let lastError: Error | undefined;
    redis.on("error", (error: Error) => (lastError = error));
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      // "Connection is closed." says less than the error that closed it (ECONNREFUSED, NOAUTH…).
      throw lastError ?? error;
    }
    return new RedisRevocationStore(redis, prefix);
  }

  key(kind: "session" | "hits" | "revocations" | "once", id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }

  async revokeSessions(sessionIds: readonly string[], ttlSeconds: number): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.reach("MULTI SET", async () => {
      const pipeline = this.redis.multi();
      for (const id of sessionIds) pipeline.set(this.key("session", id), "1", "EX", Math.max(1, Math.ceil(ttlSeconds)));
      const results = await pipeline.exec();
      const failure = results?.find(([error]) => error);
      if (!results || failure) throw failure?.[0] ?? new Error("Redis transaction aborted");
    });
  }

  async sessionRevocation(sessionId: string): Promise<SessionRevocation> {
    return this.reach("MGET", async () => {
      const [runId, [current, revoked]] = await Promise.all([
        this.serverRunId(),
        this.redis.mget(this.key("revocations", "current"), this.key("session", sessionId)),
      ]);
      if (current !== runId) return "unknown";
      return revoked === null ? "live" : "revoked";
    });
  }

  async beginRebuild(): Promise<RebuildTicket> {
    return this.reach("SET", async () => {
      const ticket: RedisRebuildTicket = { id: randomUUID(), runId: await this.serverRunId() };
      // Expires, so that a rebuild whose process died leaves nothing behind.
      await this.redis.set(this.key("revocations", "rebuild"), ticket.id, "EX", 600);
      return ticket;
    });
  }

  async completeRebuild(ticket: RebuildTicket, entries: readonly RevocationEntry[]): Promise<boolean> {
    return this.reach("PIPELINE SET", async () => {
      for (let start = 0; start < entries.length; start += rebuildEntriesPerRoundTrip) {
        const pipeline = this.redis.pipeline();
        for (const { sessionId, ttlSeconds } of entries.slice(start, start + rebuildEntriesPerRoundTrip)) {
          pipeline.set(this.key("session", sessionId), "1", "EX", Math.max(1, Math.ceil(ttlSeconds)));
        }
        const results = await pipeline.exec();
        const failure = results?.find(([error]) => error);
        if (!results || failure) throw failure?.[0] ?? new Error("Redis pipeline aborted");
      }
      const marked = await this.redis.eval(
        completeRebuildScript,
        2,
        this.key("revocations", "rebuild"),
        this.key("revocations", "current"),
        ticket.id,
        (ticket as RedisRebuildTicket).runId,
      );
      return marked === 1;
    });
  }

  async hit(key: string, windowSeconds: number): Promise<Counter> {
    const redisKey = this.key("hits", key);
    return this.reach("MULTI INCR", async () => {
      // NX: the window starts with the first hit and is not extended by later ones.
      const results = await this.redis.multi().incr(redisKey).expire(redisKey, windowSeconds, "NX").ttl(redisKey).exec();
      if (!results || results.some(([error]) => error)) throw new Error("Redis transaction failed");
      return { count: results[0]![1] as number, resetInSeconds: Math.max(1, results[2]![1] as number) };
    });
  }

  async counters(keys: readonly string[]): Promise<Counter[]> {
    if (keys.length === 0) return [];
    return this.reach("PIPELINE GET", async () => {
      const pipeline = this.redis.pipeline();
      for (const key of keys) pipeline.get(this.key("hits", key)).ttl(this.key("hits", key));
      const results = await pipeline.exec();
      if (!results || results.some(([error]) => error)) throw new Error("Redis pipeline failed");
      return keys.map((_key, index) => {
        const count = results[2 * index]![1] as string | null;
        const ttl = results[2 * index + 1]![1] as number;
        return count === null ? { count: 0, resetInSeconds: 0 } : { count: Number(count), resetInSeconds: Math.max(1, ttl) };
      });
    });
  }

  async unhit(key: string): Promise<void> {
    await this.reach("EVAL", () => this.redis.eval(unhitScript, 1, this.key("hits", key)));
  }

  async forget(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.reach("DEL", () => this.redis.del(...keys.map((key) => this.key("hits", key))));
  }

  async putOnce(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.reach("SET", () => this.redis.set(this.key("once", key), value, "EX", Math.max(1, Math.ceil(ttlSeconds))));
  }

  async takeOnce(key: string): Promise<string | null> {
    // GETDEL is one atomic command: two takes of one key cannot both read it.
    return this.reach("GETDEL", () => this.redis.getdel(this.key("once", key)));
  }

  async ping(): Promise<void> {
    await this.reach("PING", () => this.redis.ping());
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private serverRunId(): Promise<string> {
    this.runId ??= this.redis.info("server").then(
      (info) => {
        const runId = /^run_id:(\w+)/m.exec(info)?.[1];
        if (!runId) throw new Error("Redis INFO names no run_id");
        return runId;
      },
      (error: unknown) => {
        this.runId = undefined;
        throw error;
      },
    );
    return this.runId;
  }

  private async reach<T>(name: string, command: () => Promise<T>): Promise<T> {
    const span = startClientSpan(`redis ${name}`, { "db.system.name": "redis", "db.operation.name": name });
    try {
      const result = await command();
      endSpan(span);
      return result;
    } catch (error) {
      endSpan(span, error);
      throw new ServiceUnavailableError("revocation-store", error);
    }
  }
}
