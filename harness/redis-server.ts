import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import type { HostAndPort } from "../src/store/redis-connection.js";

/**
 * A Redis server of its own (a test's, a bench run's), so that stopping, freezing or flushing it
 * disturbs no one else. Without persistence unless `args` ask for it.
 */
export async function startRedis(
  port: number,
  args: string[] = ["--save", "", "--appendonly", "no"],
): Promise<ChildProcess> {
  return spawnRedis(["--port", String(port), "--bind", "127.0.0.1", ...args], "Ready to accept connections");
}

/** Runs `redis-server` with `args` until its log shows `readyLine`. */
export async function spawnRedis(args: string[], readyLine: string): Promise<ChildProcess> {
  const redis = spawn("redis-server", args, { stdio: ["ignore", "pipe", "ignore"] });
  // The log until ready (a line may come in two chunks); not kept for the life of the server.
  let log: string | undefined = "";
  await new Promise<void>((resolve, reject) => {
    redis.stdout!.on("data", (chunk: Buffer) => {
      if (log === undefined) return;
      log += chunk.toString();
      if (!log.includes(readyLine)) return;
      log = undefined;
      resolve();
    });
    redis.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return redis;
}

/** Kills it as a crash would: nothing is saved on the way out. */
export async function stopRedis(redis: ChildProcess): Promise<void> {
  if (redis.exitCode !== null || redis.signalCode !== null) return;
  const exited = new Promise((resolve) => redis.once("exit", resolve));
  redis.kill("SIGKILL");
  await exited;
}

/** A short-lived connection to one server (or Sentinel), every wait bounded: to look at it from outside. */
export async function withRedisNode<T>(node: HostAndPort, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    ...node,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}
