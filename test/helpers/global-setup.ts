import pg from "pg";
import { Redis } from "ioredis";
import { testPostgresUrl, testRedisUrl } from "./environment.js";

/** Fails the run at once, with the fix, when the servers the suite needs are not running. */
export default async function checkServers(): Promise<void> {
  const client = new pg.Client({ connectionString: testPostgresUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at TEST_DATABASE_URL (${(error as Error).message}); run .ci/run or start it`);
  } finally {
    await client.end().catch(() => {});
  }
  const redis = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Redis is not reachable at TEST_REDIS_URL (${(error as Error).message}); run .ci/run or start it`);
  } finally {
    redis.disconnect();
  }
}
