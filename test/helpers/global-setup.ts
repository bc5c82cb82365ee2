import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { temporaryDataDir } from "../../harness/data-dir.js";
import { startEmbeddedPostgres } from "../../src/db/embedded-postgres.js";
import { freePort } from "../../src/free-port.js";
import { createLogger } from "../../src/observability/logger.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** A PostgreSQL superuser URL; each test file creates databases of its own there. */
    testPostgresUrl: string;
    testRedisUrl: string;
  }
}

interface Started {
  url: string;
  stop(): Promise<void>;
}

/** A throwaway embedded PostgreSQL: the same binaries and code as the zero-configuration start. */
async function startPostgres(): Promise<Started> {
  const dir = await temporaryDataDir("users-subgraph-test-postgres-");
  const database = await startEmbeddedPostgres(dir.dir, createLogger("silent"), {
    durable: false,
    maxConnections: 300,
  });
  const url = new URL(database.url);
  url.pathname = "/postgres";
  return {
    url: url.toString(),
    stop: async () => {
      await database.stop();
      await dir.remove();
    },
  };
}

/** A throwaway Redis from the `redis-server` on PATH. */
async function startRedis(): Promise<Started> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  const spawnFailure = new Promise<Error>((resolve) => child.once("error", resolve));
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    const failure = await Promise.race([spawnFailure, sleep(50).then(() => undefined)]);
    if (failure) {
      throw new Error(
        `TEST_REDIS_URL is unset and no redis-server could be run (${failure.message}): install redis-server, or set TEST_REDIS_URL`,
      );
    }
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    if (await ping(url)) {
      return {
        url,
        stop: async () => {
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGTERM");
          await exited;
        },
      };
    }
  }
  child.kill("SIGKILL");
  throw new Error("redis-server did not answer within 5 s");
}

async function ping(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Fails the run at once, with the fix, when a server given by URL is not running. */
async function checkGiven(postgresUrl: string, redisUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at TEST_DATABASE_URL (${(error as Error).message}); start it, or unset TEST_DATABASE_URL`,
    );
  } finally {
    await client.end().catch(() => {});
  }
  if (!(await ping(redisUrl)))
    throw new Error("Redis is not reachable at TEST_REDIS_URL; start it, or unset TEST_REDIS_URL");
}

/**
 * The servers the suite runs against: those named by TEST_DATABASE_URL / TEST_REDIS_URL (CI starts
 * system servers, faster), else servers of the run's own, stopped when it ends.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = { postgres: process.env.TEST_DATABASE_URL, redis: process.env.TEST_REDIS_URL };
  const servers = await Promise.allSettled([
    given.postgres ? { url: given.postgres, stop: async () => {} } : startPostgres(),
    given.redis ? { url: given.redis, stop: async () => {} } : startRedis(),
  ]);
  const started = servers.flatMap((server) => (server.status === "fulfilled" ? [server.value] : []));
  const stop = async () => {
    await Promise.all(started.map((server) => server.stop()));
  };
  const [postgres, redis] = started;
  try {
    const failed = servers.find((server) => server.status === "rejected");
    if (failed) throw failed.reason;
    await checkGiven(postgres!.url, redis!.url);
  } catch (error) {
    await stop();
    throw error;
  }
  project.provide("testPostgresUrl", postgres!.url);
  project.provide("testRedisUrl", redis!.url);
  return stop;
}
