import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.js";
import { createLogger } from "../src/observability/logger.js";

async function admin(databaseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface BenchPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * The PostgreSQL of a run: DATABASE_URL's server, or else an embedded one started in `dataDir`
 * (the subgraph's own embedded database would live and die with its process).
 */
export async function benchPostgres(dataDir: string): Promise<BenchPostgres> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const embedded = await startEmbeddedPostgres(dataDir, createLogger("silent"));
  return { url: embedded.url, stop: () => embedded.stop() };
}

/** A database of the run's own on `serverUrl`'s server, dropped by `drop`. */
export async function scratchDatabase(
  serverUrl: string,
  prefix: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** A key prefix of the run's own on `redisUrl`'s server; `drop` removes every key under it. */
export function scratchKeyPrefix(
  redisUrl: string,
  prefix: string,
): { url: string; keyPrefix: string; drop(): Promise<void> } {
  const keyPrefix = `${prefix}:${randomBytes(4).toString("hex")}:`;
  const drop = async () => {
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      for await (const keys of redis.scanStream({ match: `${keyPrefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
        if (keys.length > 0) await redis.unlink(...keys);
      }
    } finally {
      redis.disconnect();
    }
  };
  return { url: redisUrl, keyPrefix, drop };
}
