import { describeUrl } from "../db/url.js";
import { reasonOf, StartupError } from "../startup-error.js";
import { MemoryStore } from "./memory-store.js";
import type { HostAndPort, RedisTarget } from "./redis-connection.js";
import { RedisStore } from "./redis-store.js";
import type { Store } from "./store.js";

const listed = (nodes: readonly HostAndPort[]) => nodes.map(({ host, port }) => `${host}:${port}`).join(",");

/** What messages call the Redis of the settings, never with credentials; undefined for none. */
export function describeRedis(target: RedisTarget): string | undefined {
  if (target.clusterNodes) return `the Redis Cluster at ${listed(target.clusterNodes)} (REDIS_CLUSTER_NODES)`;
  if (target.sentinels) {
    const { name, nodes } = target.sentinels;
    return `the Redis master "${name}" of the Sentinels at ${listed(nodes)} (REDIS_SENTINELS)`;
  }
  return target.url ? `Redis at ${describeUrl(target.url)} (REDIS_URL)` : undefined;
}

/**
 * The Redis the settings name (one server, a Cluster or a Sentinel-watched master), shared by
 * every instance, else the in-process store of a single one.
 */
export async function openStore(settings: {
  redis: RedisTarget;
  redisKeyPrefix: string;
  redisCommandMs: number;
}): Promise<Store> {
  const name = describeRedis(settings.redis);
  if (!name) return new MemoryStore();
  return RedisStore.connect(settings.redis, settings.redisKeyPrefix, settings.redisCommandMs).catch(
    (error: unknown) => {
      throw new StartupError(`${name} is unreachable: ${reasonOf(error)}`);
    },
  );
}
