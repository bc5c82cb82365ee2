import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll } from "vitest";
import { temporaryDataDir, type TemporaryDataDir } from "../../harness/data-dir.js";
import { freePort, run } from "../../harness/process.js";
import type { HostAndPort } from "../../src/store/redis-connection.js";
import { startRedis, stopRedis, withRedisNode } from "../../harness/redis-server.js";

/** How long a node may be silent before the others count it failed and promote its replica. */
const nodeTimeoutMs = 2_000;

export interface RedisClusterProcesses {
  /** Every node, masters and replicas. */
  nodes: HostAndPort[];
  /** The nodes that serve slots right now. */
  masters(): Promise<HostAndPort[]>;
  /** The master that serves each slot right now. */
  slotMasters(): Promise<(slot: number) => HostAndPort>;
  /** The replicas of `master` right now. */
  replicasOf(master: HostAndPort): Promise<HostAndPort[]>;
  /** Runs a command on one node. */
  command(node: HostAndPort, ...args: (string | number)[]): Promise<unknown>;
  /** Kills one node as a crash would: nothing saved. */
  kill(node: HostAndPort): Promise<void>;
  /** Freezes a node (SIGSTOP): it neither answers nor replicates until thawed. */
  freeze(node: HostAndPort): void;
  thaw(node: HostAndPort): void;
  /** Starts a killed node again, empty, under its old identity (its cluster configuration file). */
  restart(node: HostAndPort): Promise<void>;
  /** Waits until every slot is served and every node agrees the cluster is ok. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

interface ClusterNodeRow {
  address: HostAndPort;
  flags: string[];
  masterId: string;
  id: string;
}

function parseClusterNodes(text: string): ClusterNodeRow[] {
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const [id, address, flags, masterId] = line.split(" ");
      const [hostPort] = address!.split("@");
      const separator = hostPort!.lastIndexOf(":");
      return {
        id: id!,
        address: { host: hostPort!.slice(0, separator), port: Number(hostPort!.slice(separator + 1)) },
        flags: flags!.split(","),
        masterId: masterId!,
      };
    });
}

/**
 * A real Redis Cluster on loopback, of the test's own: three masters and a replica each, without
 * persistence, in a temporary directory. Killing nodes disturbs no one else.
 */
export async function startRedisCluster(): Promise<RedisClusterProcesses> {
  const dir = await temporaryDataDir("users-redis-cluster-");
  const processes = new Map<number, ChildProcess>();
  const busPorts = new Map<number, number>();
  const start = async (port: number) => {
    processes.set(port, await startRedis(port, nodeArguments(port, busPorts.get(port)!, dir)));
  };
  const stop = async () => {
    await Promise.all([...processes.values()].map(stopRedis));
    await dir.remove();
  };
  try {
    const ports = await distinctFreePorts(12);
    for (let index = 0; index < 6; index++) busPorts.set(ports[index]!, ports[index + 6]!);
    const nodes = ports.slice(0, 6).map((port) => ({ host: "127.0.0.1", port }));
    await Promise.all(nodes.map(({ port }) => start(port)));
    const created = await run("redis-cli", [
      "--cluster",
      "create",
      ...nodes.map(({ host, port }) => `${host}:${port}`),
      "--cluster-replicas",
      "1",
      "--cluster-yes",
    ]);
    if (created.code !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.output}`);
    const cluster = clusterControls(nodes, processes, start, stop);
    await cluster.settled();
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}

function nodeArguments(port: number, busPort: number, dir: TemporaryDataDir): string[] {
  return [
    ...["--cluster-enabled", "yes", "--cluster-port", String(busPort)],
    ...["--cluster-config-file", `nodes-${port}.conf`, "--dir", dir.dir],
    ...["--cluster-node-timeout", String(nodeTimeoutMs), "--cluster-replica-validity-factor", "0"],
    ...["--save", "", "--appendonly", "no"],
  ];
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function clusterControls(
  nodes: HostAndPort[],
  processes: Map<number, ChildProcess>,
  start: (port: number) => Promise<void>,
  stop: () => Promise<void>,
): RedisClusterProcesses {
  const running = (port: number) => processes.get(port)?.exitCode === null && processes.get(port)?.signalCode === null;
  const alive = () => nodes.filter(({ port }) => running(port));
  const view = async () =>
    withRedisNode(alive()[0]!, async (redis) => parseClusterNodes((await redis.cluster("NODES")) as string));
  return {
    nodes,
    masters: async () =>
      (await view())
        .filter((row) => row.flags.includes("master") && !row.flags.includes("fail"))
        .map((row) => row.address),
    slotMasters: async () => {
      const ranges = await withRedisNode(alive()[0]!, (redis) => redis.cluster("SLOTS"));
      return (slot) => {
        const master = ranges.find(([first, last]) => first <= slot && slot <= last)?.[2];
        if (!master) throw new Error(`no master serves slot ${slot}`);
        return { host: master[0], port: master[1] };
      };
    },
    replicasOf: async (master) => {
      const rows = await view();
      const id = rows.find((row) => row.address.port === master.port)!.id;
      return rows.filter((row) => row.masterId === id && !row.flags.includes("fail")).map((row) => row.address);
    },
    command: (node, ...args) => withRedisNode(node, (redis) => redis.call(String(args[0]), ...args.slice(1))),
    kill: async (node) => stopRedis(processes.get(node.port)!),
    freeze: (node) => processes.get(node.port)!.kill("SIGSTOP"),
    thaw: (node) => processes.get(node.port)!.kill("SIGCONT"),
    restart: (node) => start(node.port),
    settled: () => waitUntilSettled(alive),
    stop,
  };
}

/** Every live node says cluster_state:ok and every live replica's link to its master is up. */
async function waitUntilSettled(alive: () => HostAndPort[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const states = await Promise.all(
      alive().map((node) =>
        withRedisNode(node, async (redis) => {
          const info = await redis.cluster("INFO");
          const replication = await redis.info("replication");
          const linkDown = /role:slave/.test(replication) && !/master_link_status:up/.test(replication);
          return /cluster_state:ok/.test(info) && !linkDown;
        }).catch(() => false),
      ),
    );
    if (states.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error("the Redis Cluster did not settle within 60 s");
    await sleep(100);
  }
}

let fileCluster: RedisClusterProcesses | undefined;

/**
 * A cluster for the test file: started before its tests, stopped after them. Test servers of the
 * file given the "cluster" store use it.
 */
export function useRedisCluster(): () => RedisClusterProcesses {
  beforeAll(async () => {
    fileCluster = await startRedisCluster();
  });
  afterAll(async () => {
    await fileCluster?.stop();
    fileCluster = undefined;
  });
  return () => fileCluster!;
}

/** The cluster of the test file, for the "cluster" store. */
export function fileRedisCluster(): RedisClusterProcesses {
  if (!fileCluster) throw new Error('the "cluster" store needs useRedisCluster() at the top of the test file');
  return fileCluster;
}
