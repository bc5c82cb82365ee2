import { describeUrl } from "../db/url.js";
import { reasonOf, StartupError } from "../startup-error.js";
import { MemoryStore } from "./memory-store.js";
import { RedisStore } from "./redis-store.js";
import type { Store } from "./store.js";

/** The Redis of `REDIS_URL`, shared by every instance, else the in-process store of a single one. */
export async function openStore(settings: {
  redisUrl?: string;
  redisKeyPrefix: string;
  redisCommandMs: number;
}): Promise<Store> {
  const { redisUrl } = settings;
  if (!redisUrl) return new MemoryStore();
  return RedisStore.connect(redisUrl, settings.redisKeyPrefix, settings.redisCommandMs).catch((error: unknown) => {
    throw new StartupError(`Redis at ${describeUrl(redisUrl)} (REDIS_URL) is unreachable: ${reasonOf(error)}`);
  });
}
