import { randomUUID } from "node:crypto";
import { Cluster } from "ioredis";
import { ServiceUnavailableError } from "../errors/errors.js";
import { endSpan, startClientSpan } from "../observability/tracing.js";
import type { Counter, CounterSettlement, LimitedHit, ReachedLimit } from "./counter-store.js";
import { groupBySlot, keySlot } from "./key-slot.js";
import { connectRedis, type RedisClient, type RedisTarget } from "./redis-connection.js";
import { defineScripts, type StoreScripts } from "./redis-scripts.js";
import type { RebuildTicket, RevocationEntry, SessionRevocation } from "./revocation-store.js";
import type { Store } from "./store.js";

export const defaultRedisTimeoutMs = 2_000;

/**
 * The revocation set is cut into this many shards, each with keys of one hash tag: a Redis Cluster
 * spreads them over its masters, and each shard knows by itself whether it is current.
 */
export const revocationShards = 1024;

/** FNV-1a: a session's shard, the same in every process. */
function shardOf(sessionId: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < sessionId.length; index++) {
    hash = Math.imul(hash ^ sessionId.charCodeAt(index), 0x01000193);
  }
  return (hash >>> 0) % revocationShards;
}

const allShards = Array.from({ length: revocationShards }, (_, shard) => shard);

/**
 * Shared by every instance: one Redis server, a Redis Cluster or a Sentinel-watched master. Keys
 * carry the TTL of what they guard, so Redis never grows without bound; commands fail fast while
 * Redis is unreachable instead of queueing behind the request.
 *
 * Whether a shard of the revocation set is current: its mark holds the run id of the Redis server
 * on which a rebuild completed it, and each read compares it with the run id of the server that
 * answers, in the same script. FLUSHALL deletes the mark; a restarted server (even one that
 * reloaded an older snapshot) or a replica promoted by a failover has another run id. So any of
 * them reads as "unknown" for the shards it holds until rebuilt from PostgreSQL, and the others
 * are not disturbed.
 *
 * On a Cluster, every transaction and script keeps to the keys of one slot: a shard's keys share a
 * hash tag, and counters given together are split by slot (their callers tag them, see `slotTag`).
 */
export class RedisStore implements Store {
  private readonly scripts: StoreScripts;
  /** On a Cluster, keys are grouped by slot before a transaction or script; a single server takes them together. */
  private readonly bySlot: <T>(items: readonly T[], keyOf: (item: T) => string) => T[][];

  private constructor(
    readonly redis: RedisClient,
    /** Starts every key of this store. */
    readonly prefix: string,
    private readonly timeoutMs: number,
  ) {
    this.scripts = defineScripts(redis);
    this.bySlot = redis instanceof Cluster ? groupBySlot : (items) => (items.length === 0 ? [] : [[...items]]);
  }

  /** `timeoutMs` bounds connecting and every call: a Redis that hangs fails the request, not stalls it. */
  static async connect(
    target: string | RedisTarget,
    prefix: string,
    timeoutMs = defaultRedisTimeoutMs,
  ): Promise<RedisStore> {
    const redis = await connectRedis(typeof target === "string" ? { url: target } : target, timeoutMs);
    return new RedisStore(redis, prefix, timeoutMs);
  }

  /**
   * The Redis key of a revoked session, a counter or a value kept for one take. A kept value is
   * read and written by one-key commands only, so it needs no hash tag: any slot will do, and kept
   * values spread over a Cluster's masters.
   */
  key(kind: "session" | "hits" | "once", id: string): string {
    return kind === "session" ? this.shardKey(shardOf(id), `session:${id}`) : `${this.prefix}${kind}:${id}`;
  }

  private shardKey(shard: number, name: "current" | "rebuild" | `session:${string}`): string {
    return `${this.prefix}{revocations:${shard}}${name}`;
  }

  async revokeSessions(sessionIds: readonly string[], ttlSeconds: number): Promise<void> {
    if (sessionIds.length === 0) return;
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const groups = this.bySlot(
      sessionIds.map((id) => this.key("session", id)),
      (key) => key,
    );
    await this.reach("MULTI SET", () =>
      Promise.all(
        groups.map(async (keys) => {
          const transaction = this.redis.multi();
          for (const key of keys) transaction.set(key, "1", "EX", ttl);
          const results = await transaction.exec();
          const failure = results?.find(([error]) => error);
          if (!results || failure) throw failure?.[0] ?? new Error("Redis transaction aborted");
        }),
      ),
    );
  }

  async sessionRevocation(sessionId: string): Promise<SessionRevocation> {
    const shard = shardOf(sessionId);
    return this.reach(
      "EVAL",
      () =>
        this.scripts.sessionRevocation(
          2,
          this.shardKey(shard, "current"),
          this.key("session", sessionId),
        ) as Promise<SessionRevocation>,
    );
  }

  /** Leaves a ticket in every shard, on the server that holds it. */
  async beginRebuild(): Promise<RebuildTicket> {
    const ticket: RebuildTicket = { id: randomUUID() };
    await this.reach(
      "EVAL",
      () =>
        Promise.all(allShards.map((shard) => this.scripts.beginRebuild(1, this.shardKey(shard, "rebuild"), ticket.id))),
      "unbounded",
    );
    return ticket;
  }

  /** Shard by shard, each in one script; true when every shard was marked current. */
  async completeRebuild(ticket: RebuildTicket, entries: readonly RevocationEntry[]): Promise<boolean> {
    const byShard = new Map<number, RevocationEntry[]>(allShards.map((shard) => [shard, []]));
    for (const entry of entries) byShard.get(shardOf(entry.sessionId))!.push(entry);
    const marked = await this.reach(
      "EVAL",
      () =>
        Promise.all(
          [...byShard].map(([shard, ended]) =>
            this.scripts.completeRebuild(
              2 + ended.length,
              this.shardKey(shard, "rebuild"),
              this.shardKey(shard, "current"),
              ...ended.map(({ sessionId }) => this.key("session", sessionId)),
              ticket.id,
              ...ended.map(({ ttlSeconds }) => Math.max(1, Math.ceil(ttlSeconds))),
            ),
          ),
        ),
      "unbounded",
    );
    return marked.every((done) => done === 1);
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

  /**
   * One script per slot, sent together: each checks and counts its own counters atomically, so no
   * counter overshoots. Counters of other slots that took their hit while one slot refused take it
   * back, so that a refused attempt counts nowhere.
   */
  async hitUnlessLimited(hits: readonly LimitedHit[], windowSeconds: number): Promise<ReachedLimit[]> {
    for (const { key, waivedBy } of hits) {
      if (waivedBy !== undefined && this.redis instanceof Cluster && keySlot(waivedBy) !== keySlot(key)) {
        throw new Error(`the waiver ${waivedBy} must share the hash tag of ${key}`);
      }
    }
    const groups = this.bySlot(hits, ({ key }) => this.key("hits", key));
    const answers = await this.reach("EVAL", () =>
      Promise.all(groups.map((group) => this.hitGroupUnlessLimited(group, windowSeconds))),
    );
    const reached = answers.flat();
    if (reached.length === 0) return [];
    const counted = groups.filter((_group, index) => answers[index]!.length === 0).flat();
    if (counted.length > 0) await this.settle({ unhit: counted.map(({ key }) => key) });
    return reached;
  }

  private async hitGroupUnlessLimited(hits: readonly LimitedHit[], windowSeconds: number): Promise<ReachedLimit[]> {
    const waivers = hits.flatMap(({ waivedBy }) => (waivedBy === undefined ? [] : [waivedBy]));
    let waiverPosition = hits.length;
    const limits = hits.flatMap(({ limit, waivedBy }) => [limit, waivedBy === undefined ? 0 : ++waiverPosition]);
    const keys = [...hits.map(({ key }) => key), ...waivers].map((key) => this.key("hits", key));
    const reached = (await this.scripts.hitUnlessLimited(keys.length, ...keys, windowSeconds, ...limits)) as number[];
    const limitsReached: ReachedLimit[] = [];
    for (let index = 0; index < reached.length; index += 2) {
      limitsReached.push({ key: hits[reached[index]! - 1]!.key, resetInSeconds: Math.max(1, reached[index + 1]!) });
    }
    return limitsReached;
  }

  /** One script per slot, sent together: each change concerns one counter. */
  async settle({ forget = [], unhit = [], hit }: CounterSettlement): Promise<void> {
    const changes = [
      ...forget.map((key) => ({ key, change: "forget" as const })),
      ...unhit.map((key) => ({ key, change: "unhit" as const })),
      ...(hit ? [{ key: hit.key, change: "hit" as const }] : []),
    ];
    const groups = this.bySlot(changes, ({ key }) => this.key("hits", key));
    await this.reach("EVAL", () =>
      Promise.all(
        groups.map((group) => {
          const keysOf = (change: string) =>
            group.filter((item) => item.change === change).map(({ key }) => this.key("hits", key));
          const [forgotten, takenBack, hits] = [keysOf("forget"), keysOf("unhit"), keysOf("hit")];
          const keys = [...forgotten, ...takenBack, ...hits];
          const window = hits.length > 0 ? hit!.windowSeconds : 0;
          return this.scripts.settle(keys.length, ...keys, forgotten.length, takenBack.length, window);
        }),
      ),
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

  /**
   * Every failure is Redis being unavailable. A call answers within the timeout (a Cluster retries
   * a command a node refused while failing over, which could add up), except a rebuild's steps,
   * whose many commands are each bounded.
   */
  private async reach<T>(
    name: string,
    command: () => Promise<T>,
    bound: "bounded" | "unbounded" = "bounded",
  ): Promise<T> {
    const span = startClientSpan(`redis ${name}`, { "db.system.name": "redis", "db.operation.name": name });
    let timer: NodeJS.Timeout | undefined;
    try {
      const running = command();
      running.catch(() => {}); // answered below, or abandoned after the deadline
      const result = await (bound === "unbounded"
        ? running
        : Promise.race([
            running,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error("Redis did not answer in time")), this.timeoutMs);
            }),
          ]));
      endSpan(span);
      return result;
    } catch (error) {
      endSpan(span, error);
      throw new ServiceUnavailableError("revocation-store", error);
    } finally {
      clearTimeout(timer);
    }
  }
}
