import { Cluster, type Redis } from "ioredis";
import type { RedisStore } from "../../src/store/redis-store.js";

/** The servers that hold a store's keys: the one server, or every master of a Cluster. */
function servers(store: RedisStore): Redis[] {
  return store.redis instanceof Cluster ? store.redis.nodes("master") : [store.redis];
}

/** The store's keys that match `pattern` (after its prefix), on whichever servers hold them. */
export async function storeKeys(store: RedisStore, pattern = "*"): Promise<string[]> {
  const found = await Promise.all(servers(store).map((server) => server.keys(`${store.prefix}${pattern}`)));
  return found.flat();
}

/** Runs `change` on each key matching `pattern`, on the server that holds it (no cross-slot command). */
export async function changeStoreKeys(
  store: RedisStore,
  pattern: string,
  change: (server: Redis, key: string) => Promise<unknown>,
): Promise<void> {
  for (const server of servers(store)) {
    for (const key of await server.keys(`${store.prefix}${pattern}`)) await change(server, key);
  }
}
