import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { ServiceUnavailableError } from "../errors/errors.js";
import { endSpan, startClientSpan } from "../observability/tracing.js";
import type { Counter, CounterSettlement, LimitedHit, ReachedLimit } from "./counter-store.js";
import type { RebuildTicket, RevocationEntry, SessionRevocation } from "./revocation-store.js";
import type { Store } from "./store.js";

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

/**
 * KEYS: the counters, then their waivers. ARGV: the window, then per counter its limit and the
 * position of its waiver in KEYS (0 for none). Answers {position, ttl} pairs of the limits reached,
 * empty when every counter took its hit.
 */
const hitUnlessLimitedScript = `local counters = (#ARGV - 1) / 2
local reached = {}
for i = 1, counters do
  local waiver = tonumber(ARGV[2 * i + 1])
  local waived = waiver > 0 and tonumber(redis.call('GET', KEYS[waiver]) or '0') > 0
  if not waived and tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[2 * i]) then
    table.insert(reached, i)
    table.insert(reached, redis.call('TTL', KEYS[i]))
  end
end
if #reached > 0 then return reached end
for i = 1, counters do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[1], 'NX')
end
return reached`;

/**
 * KEYS: the counters to forget, those to take a hit back from (DECR alone would create a key
 * without TTL when it has expired meanwhile), then the one to hit if any. ARGV: how many to
 * forget, how many to take back, the hit's window (0 for no hit).
 */
const settleScript = `local forget, unhit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 1, forget do redis.call('DEL', KEYS[i]) end
for i = forget + 1, forget + unhit do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('DECR', KEYS[i]) end
end
if window > 0 then
  local key = KEYS[forget + unhit + 1]
  redis.call('INCR', key)
  redis.call('EXPIRE', key, window, 'NX')
end
return 0`;

/**
 * Shared by every instance. Keys carry the TTL of what they guard, so Redis never grows without
 * bound; commands fail fast while Redis is unreachable instead of queueing behind the request.
 *
 * Whether Redis holds the current revocation set: the key `revocations:current` holds the run id
 * of the Redis server on which a rebuild completed. FLUSHALL deletes it; a restarted server (even
 * one that reloaded an older snapshot) or a replica promoted by a failover has another run id. So
 * any of them reads as "unknown" until rebuilt from PostgreSQL.
 */
export class RedisStore implements Store {
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
  static async connect(url: string, prefix: string, timeoutMs = defaultRedisTimeoutMs): Promise<RedisStore> {
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
    return new RedisStore(redis, prefix);
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
      const results = await this.redis
        .multi()
        .incr(redisKey)
        .expire(redisKey, windowSeconds, "NX")
        .ttl(redisKey)
        .exec();
      if (!results || results.some(([error]) => error)) throw new Error("Redis transaction failed");
      return { count: results[0]![1] as number, resetInSeconds: Math.max(1, results[2]![1] as number) };
    });
  }

  async hitUnlessLimited(hits: readonly LimitedHit[], windowSeconds: number): Promise<ReachedLimit[]> {
    if (hits.length === 0) return [];
    const waivers = hits.flatMap(({ waivedBy }) => (waivedBy === undefined ? [] : [waivedBy]));
    let waiverPosition = hits.length;
    const limits = hits.flatMap(({ limit, waivedBy }) => [limit, waivedBy === undefined ? 0 : ++waiverPosition]);
    const keys = [...hits.map(({ key }) => key), ...waivers].map((key) => this.key("hits", key));
    const reached = (await this.reach("EVAL", () =>
      this.redis.eval(hitUnlessLimitedScript, keys.length, ...keys, windowSeconds, ...limits),
    )) as number[];
    const limitsReached: ReachedLimit[] = [];
    for (let index = 0; index < reached.length; index += 2) {
      limitsReached.push({ key: hits[reached[index]! - 1]!.key, resetInSeconds: Math.max(1, reached[index + 1]!) });
    }
    return limitsReached;
  }

  async settle({ forget = [], unhit = [], hit }: CounterSettlement): Promise<void> {
    const keys = [...forget, ...unhit, ...(hit ? [hit.key] : [])].map((key) => this.key("hits", key));
    if (keys.length === 0) return;
    await this.reach("EVAL", () =>
      this.redis.eval(settleScript, keys.length, ...keys, forget.length, unhit.length, hit?.windowSeconds ?? 0),
    );
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.reach("SET", () =>
      this.redis.set(this.key("once", key), value, "EX", Math.max(1, Math.ceil(ttlSeconds))),
    );
  }

  /** GETDEL: reading and deleting are one command, so two instances cannot both take the value. */
  async take(key: string): Promise<string | null> {
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
