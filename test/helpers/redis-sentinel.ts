import type { ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { temporaryDataDir } from "../../harness/data-dir.js";
import { freePort } from "../../harness/process.js";
import type { HostAndPort } from "../../src/store/redis-connection.js";
import { spawnRedis, startRedis, stopRedis, withRedisNode } from "../../harness/redis-server.js";

export const sentinelMasterName = "users-test";

export interface RedisSentinelProcesses {
  sentinels: HostAndPort[];
  /** The master first, then its replica. */
  servers: HostAndPort[];
  /** The server the Sentinels name as master right now. */
  master(): Promise<HostAndPort>;
  command(node: HostAndPort, ...args: (string | number)[]): Promise<unknown>;
  kill(node: HostAndPort): Promise<void>;
  freeze(node: HostAndPort): void;
  thaw(node: HostAndPort): void;
  stop(): Promise<void>;
}

/**
 * A real Sentinel group on loopback, of the test's own: a master, its replica and three Sentinels
 * (quorum 2) that count the master down after one silent second. Without persistence.
 */
export async function startRedisSentinels(): Promise<RedisSentinelProcesses> {
  const dir = await temporaryDataDir("users-redis-sentinel-");
  const processes = new Map<number, ChildProcess>();
  const stop = async () => {
    await Promise.all([...processes.values()].map(stopRedis));
    await dir.remove();
  };
  try {
    const [masterPort, replicaPort, ...sentinelPorts] = await Promise.all(Array.from({ length: 5 }, freePort));
    // A replica writes the copy it receives to disk: in the group's directory.
    const serverArguments = ["--save", "", "--appendonly", "no", "--dir", dir.dir];
    processes.set(masterPort!, await startRedis(masterPort!, serverArguments));
    const replicaOf = ["--replicaof", "127.0.0.1", String(masterPort)];
    processes.set(replicaPort!, await startRedis(replicaPort!, [...serverArguments, ...replicaOf]));
    for (const port of sentinelPorts) {
      const config = path.join(dir.dir, `sentinel-${port}.conf`);
      await writeFile(
        config,
        [
          `port ${port}`,
          "bind 127.0.0.1",
          `dir ${dir.dir}`,
          `sentinel monitor ${sentinelMasterName} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${sentinelMasterName} 1000`,
          `sentinel failover-timeout ${sentinelMasterName} 5000`,
          "",
        ].join("\n"),
      );
      processes.set(port, await spawnRedis([config, "--sentinel"], "+monitor master"));
    }
    const group = sentinelControls(
      sentinelPorts.map((port) => ({ host: "127.0.0.1", port })),
      [masterPort!, replicaPort!].map((port) => ({ host: "127.0.0.1", port })),
      processes,
      stop,
    );
    await waitUntilWatched(group);
    return group;
  } catch (error) {
    await stop();
    throw error;
  }
}

function sentinelControls(
  sentinels: HostAndPort[],
  servers: HostAndPort[],
  processes: Map<number, ChildProcess>,
  stop: () => Promise<void>,
): RedisSentinelProcesses {
  return {
    sentinels,
    servers,
    master: async () => {
      const [host, port] = (await withRedisNode(sentinels[0]!, (redis) =>
        redis.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", sentinelMasterName),
      )) as [string, string];
      return { host, port: Number(port) };
    },
    command: (node, ...args) => withRedisNode(node, (redis) => redis.call(String(args[0]), ...args.slice(1))),
    kill: (node) => stopRedis(processes.get(node.port)!),
    freeze: (node) => processes.get(node.port)!.kill("SIGSTOP"),
    thaw: (node) => processes.get(node.port)!.kill("SIGCONT"),
    stop,
  };
}

/** Every Sentinel knows the replica and the other Sentinels: a failover can happen. */
async function waitUntilWatched(group: RedisSentinelProcesses): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const views = await Promise.all(
      group.sentinels.map((sentinel) =>
        withRedisNode(sentinel, (redis) => redis.call("SENTINEL", "MASTER", sentinelMasterName)).catch(() => []),
      ),
    );
    const watched = views.every((view) => {
      const fields = view as string[];
      const field = (name: string) => Number(fields[fields.indexOf(name) + 1]);
      return field("num-slaves") >= 1 && field("num-other-sentinels") >= 2;
    });
    if (watched) return;
    if (Date.now() > deadline) throw new Error("the Sentinels did not find each other within 30 s");
    await sleep(100);
  }
}
