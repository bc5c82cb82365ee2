import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, onTestFinished } from "vitest";
import { errorCodes, mutations, sessionMutations } from "../harness/graphql.js";
import { freePort } from "../harness/process.js";
import { startRedis, stopRedis, withRedisNode } from "../harness/redis-server.js";
import { keySlot } from "../src/store/key-slot.js";
import type { HostAndPort } from "../src/store/redis-connection.js";
import { RedisStore } from "../src/store/redis-store.js";
import { createTestDatabase } from "./helpers/database.js";
import { expectNothingLost, failoverUnderLoad, type FailoverReport } from "./helpers/failover-load.js";
import { useRedisCluster } from "./helpers/redis-cluster.js";
import { type RedisSentinelProcesses, sentinelMasterName, startRedisSentinels } from "./helpers/redis-sentinel.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

const cluster = useRedisCluster();
/** A failover takes seconds, and the stream waits for the service to recover. */
const failoverTimeoutMs = 120_000;

const sessionOf = (accessToken: string): string =>
  JSON.parse(Buffer.from(accessToken.split(".")[1]!, "base64url").toString()).sid;

const acceptedCount = async (server: TestServer, sessions: { accessToken: string }[]) => {
  const answers = await Promise.all(
    sessions.map(({ accessToken }) => server.request(mutations.me, {}, { token: accessToken })),
  );
  return answers.filter((answer) => !answer.errors).length;
};

/** What `me` answers once the service stops refusing (a failover in progress). */
async function settledCode(server: TestServer, accessToken: string): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const code = errorCodes(await server.request(mutations.me, {}, { token: accessToken }))[0] ?? "OK";
    if (code !== "SERVICE_UNAVAILABLE") return code;
    await sleep(200);
  }
  return "SERVICE_UNAVAILABLE";
}

async function masterWithReplica() {
  for (const master of await cluster().masters()) {
    const [replica] = await cluster().replicasOf(master);
    if (replica) return { master, replica };
  }
  throw new Error("no master has a replica");
}

function print(name: string, report: FailoverReport): void {
  console.log(`${name}: ${report.answers} answers ${JSON.stringify(report.byOutcome)}`);
}

describe("a Redis Cluster failing over under a stream of logouts and me calls", () => {
  const server = useTestServer({ store: "cluster" });

  it(
    "CLUSTER FAILOVER on a replica: 0 logged-out tokens accepted, at any time; refusals only; recovers by itself",
    async () => {
      const { replica } = await masterWithReplica();
      const report = await failoverUnderLoad(server, async () => {
        await cluster().command(replica, "CLUSTER", "FAILOVER");
        // The replica takes over once it has caught up with its master.
        while (!String(await cluster().command(replica, "ROLE")).startsWith("master")) await sleep(50);
      });
      print("CLUSTER FAILOVER", report);
      expectNothingLost(report);
      await cluster().settled();
    },
    failoverTimeoutMs,
  );

  it(
    "a master SIGKILLed: 0 logged-out tokens accepted, at any time; refusals only; recovers by itself",
    async () => {
      const { master } = await masterWithReplica();
      const report = await failoverUnderLoad(server, () => cluster().kill(master));
      print("master SIGKILLed", report);
      expectNothingLost(report);
      expect((await cluster().masters()).map(({ port }) => port)).not.toContain(master.port);
      // Back as the replica of the master that replaced it.
      await cluster().restart(master);
      await cluster().settled();
    },
    failoverTimeoutMs,
  );
});

describe("a Redis Cluster master dying before its replica received the last revocations", () => {
  const server = useTestServer({ store: "cluster" });

  it(
    "the promoted replica lacks them; its shards read unknown and are rebuilt: 0 of 20 accepted",
    async () => {
      const store = server().store as RedisStore;
      const masterOf = await cluster().slotMasters();
      const { master, replica } = await masterWithReplica();
      // Sessions whose revocations the doomed master holds.
      const sessions: { accessToken: string; key: string }[] = [];
      while (sessions.length < 20) {
        const { accessToken } = (await server().request(mutations.register, { input: newAccount() })).data!.register;
        const key = store.key("session", sessionOf(accessToken));
        if (masterOf(keySlot(key)).port === master.port) sessions.push({ accessToken, key });
      }
      expect(await acceptedCount(server(), sessions)).toBe(20);

      // The replica, frozen, cannot reconnect once its master drops the link: it misses what follows.
      cluster().freeze(replica);
      await cluster().command(master, "CLIENT", "KILL", "TYPE", "replica");
      for (const { accessToken } of sessions) {
        expect((await server().request(sessionMutations.logout, {}, { token: accessToken })).data).toEqual({
          logout: true,
        });
      }
      for (const { key } of sessions) expect(await cluster().command(master, "EXISTS", key)).toBe(1);
      await cluster().kill(master);
      cluster().thaw(replica);
      while (!String(await cluster().command(replica, "ROLE")).startsWith("master")) await sleep(100);

      // Redis lost every one of them…
      for (const { key } of sessions) expect(await cluster().command(replica, "EXISTS", key)).toBe(0);
      // …and none comes back: the shards are rebuilt from PostgreSQL before any token is trusted.
      for (const { accessToken } of sessions) {
        expect(await settledCode(server(), accessToken)).toBe("UNAUTHENTICATED");
      }
      for (const { key } of sessions) expect(await cluster().command(replica, "EXISTS", key)).toBe(1);
    },
    failoverTimeoutMs,
  );
});

/**
 * A Sentinel group of its own, a store on the master it names, and a server on that store; all
 * stopped once the test finishes, even when it times out.
 */
async function onSentinels(): Promise<{ group: RedisSentinelProcesses; server: TestServer }> {
  const cleanups: (() => Promise<unknown>)[] = [];
  onTestFinished(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const group = await startRedisSentinels();
  cleanups.push(() => group.stop());
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const store = await RedisStore.connect(
    { sentinels: { nodes: group.sentinels, name: sentinelMasterName } },
    `test:${randomBytes(6).toString("hex")}:`,
  );
  cleanups.push(() => store.close());
  const server = await startTestServer({ databaseUrl: database.url, store });
  cleanups.push(() => server.close());
  return { group, server };
}

describe("Redis behind Sentinels failing over by hand (SENTINEL FAILOVER)", () => {
  it(
    "under a stream of logouts and me calls: 0 logged-out tokens accepted, at any time; refusals only; recovers by itself",
    async () => {
      const { group, server } = await onSentinels();
      const [, replica] = group.servers as [HostAndPort, HostAndPort];
      const report = await failoverUnderLoad(
        () => server,
        async () => {
          await group.command(group.sentinels[0]!, "SENTINEL", "FAILOVER", sentinelMasterName);
          while ((await group.master()).port !== replica.port) await sleep(100);
        },
      );
      print("SENTINEL FAILOVER", report);
      expectNothingLost(report);
    },
    failoverTimeoutMs,
  );
});

describe("Redis behind Sentinels, its master SIGKILLed", () => {
  it(
    "under a stream of logouts and me calls: 0 logged-out tokens accepted, at any time; refusals only; recovers by itself",
    async () => {
      const { group, server } = await onSentinels();
      const [master, replica] = group.servers as [HostAndPort, HostAndPort];
      const report = await failoverUnderLoad(
        () => server,
        () => group.kill(master),
      );
      print("Sentinel, master SIGKILLed", report);
      expectNothingLost(report);
      expect(await group.master()).toEqual(replica);
    },
    failoverTimeoutMs,
  );

  it(
    "before its replica received the last revocations: the new master lacks them, and none is accepted (0 of 20)",
    async () => {
      const { group, server } = await onSentinels();
      const [master, replica] = group.servers as [HostAndPort, HostAndPort];
      const store = server.store as RedisStore;
      const sessions = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const { accessToken } = (await server.request(mutations.register, { input: newAccount() })).data!.register;
          return { accessToken, key: store.key("session", sessionOf(accessToken)) };
        }),
      );
      expect(await acceptedCount(server, sessions)).toBe(20);
      group.freeze(replica);
      await group.command(master, "CLIENT", "KILL", "TYPE", "replica");
      for (const { accessToken } of sessions) {
        expect((await server.request(sessionMutations.logout, {}, { token: accessToken })).data).toEqual({
          logout: true,
        });
      }
      await group.kill(master);
      group.thaw(replica);
      while ((await group.master().catch(() => master)).port !== replica.port) await sleep(100);

      for (const { key } of sessions) expect(await group.command(replica, "EXISTS", key)).toBe(0);
      for (const { accessToken } of sessions) expect(await settledCode(server, accessToken)).toBe("UNAUTHENTICATED");
      for (const { key } of sessions) expect(await group.command(replica, "EXISTS", key)).toBe(1);
    },
    failoverTimeoutMs,
  );
});

describe("a master demoted to a replica, still reached by a connection made before", () => {
  it("answers no revocation: the check fails closed (SERVICE_UNAVAILABLE) instead of reading the replica's copy", async () => {
    const [port, otherPort] = [await freePort(), await freePort()];
    const [demoted, other] = [await startRedis(port), await startRedis(otherPort)];
    onTestFinished(async () => {
      await stopRedis(demoted);
      await stopRedis(other);
    });
    const store = await RedisStore.connect(`redis://127.0.0.1:${port}`, "demoted:");
    onTestFinished(() => store.close());
    const ticket = await store.beginRebuild();
    expect(await store.completeRebuild(ticket, [])).toBe(true);
    expect(await store.sessionRevocation("a-session")).toBe("live");

    await withRedisNode({ host: "127.0.0.1", port }, (redis) => redis.replicaof("127.0.0.1", otherPort));
    await expect(store.sessionRevocation("a-session")).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    await expect(store.beginRebuild()).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
  });
});
