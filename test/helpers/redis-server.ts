import { spawn, type ChildProcess } from "node:child_process";

/**
 * A Redis server of the test's own, so that stopping, freezing or flushing it disturbs no one
 * else. Without persistence unless `args` ask for it.
 */
export async function startRedis(
  port: number,
  args: string[] = ["--save", "", "--appendonly", "no"],
): Promise<ChildProcess> {
  const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", ...args], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  await new Promise<void>((resolve, reject) => {
    redis.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("Ready to accept connections")) resolve();
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
