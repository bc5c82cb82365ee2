import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../src/store/memory-store.js";
import { RedisStore } from "../src/store/redis-store.js";
import { endingLockKey } from "../src/sessions/revocation-set.js";
import { useTestDatabase } from "./helpers/database.js";
import { errorCodes, mutations, sessionMutations } from "../harness/graphql.js";
import { freePort } from "../harness/process.js";
import { startRedis, stopRedis } from "./helpers/redis-server.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

const database = useTestDatabase();
const loggedOutCount = 24;
const liveCount = 4;

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

/** Sessions of one account: `loggedOutCount` logged out, `liveCount` still live. */
async function sessionsOn(server: TestServer): Promise<{ loggedOut: Tokens[]; live: Tokens[] }> {
  const account = newAccount("rebuild");
  await server.request(mutations.register, { input: account });
  const logIn = async () =>
    (
      await server.request(mutations.login, {
        input: { usernameOrEmail: account.username, password: account.password },
      })
    ).data!.login as Tokens;
  const loggedOut = await Promise.all(Array.from({ length: loggedOutCount }, logIn));
  const live = await Promise.all(Array.from({ length: liveCount }, logIn));
  for (const session of loggedOut) {
    expect((await server.request(sessionMutations.logout, {}, { token: session.accessToken })).data).toEqual({
      logout: true,
    });
  }
  return { loggedOut, live };
}

async function acceptedCount(server: TestServer, sessions: Tokens[]): Promise<number> {
  const answers = await Promise.all(
    sessions.map((session) => server.request(mutations.me, {}, { token: session.accessToken })),
  );
  for (const answer of answers.filter((answer) => answer.errors)) {
    expect(["UNAUTHENTICATED", "SERVICE_UNAVAILABLE"]).toContain(errorCodes(answer)[0]);
  }
  return answers.filter((answer) => !answer.errors && answer.data!.me).length;
}

/** Live sessions work again once the set is rebuilt (the first requests may fail closed while it is). */
async function expectLiveSessionsWork(server: TestServer, live: Tokens[]): Promise<void> {
  await expect.poll(() => acceptedCount(server, live), { timeout: 15_000, interval: 100 }).toBe(live.length);
  for (const session of live) {
    const refreshed = await server.request(sessionMutations.refresh, { refreshToken: session.refreshToken });
    expect(refreshed.errors).toBeUndefined();
  }
}

describe("Redis losing its data", () => {
  let redis: ChildProcess;
  let port: number;
  let store: RedisStore;
  let server: TestServer;
  let dataDir: string;
  beforeAll(async () => {
    port = await freePort();
    dataDir = await mkdtemp(path.join(tmpdir(), "users-redis-"));
    redis = await startRedis(port);
    store = await RedisStore.connect(`redis://127.0.0.1:${port}`, "rebuild:");
    server = await startTestServer({ databaseUrl: database().url, store });
  });
  afterAll(async () => {
    await server.close();
    await store.close();
    await stopRedis(redis);
    await rm(dataDir, { recursive: true, force: true });
  });

  it(`restarted empty: 0 of ${loggedOutCount} logged-out access tokens accepted; live sessions keep working`, async () => {
    const { loggedOut, live } = await sessionsOn(server);
    expect(await acceptedCount(server, loggedOut)).toBe(0);

    await stopRedis(redis);
    redis = await startRedis(port);
    await expect
      .poll(
        () =>
          store.ping().then(
            () => true,
            () => false,
          ),
        { timeout: 10_000 },
      )
      .toBe(true);

    expect(await acceptedCount(server, loggedOut)).toBe(0);
    await expectLiveSessionsWork(server, live);
    expect(await acceptedCount(server, loggedOut)).toBe(0);
  });

  it(`FLUSHALL: 0 of ${loggedOutCount} logged-out access tokens accepted; live sessions keep working`, async () => {
    const { loggedOut, live } = await sessionsOn(server);
    await store.redis.flushall();
    expect(await acceptedCount(server, loggedOut)).toBe(0);
    await expectLiveSessionsWork(server, live);
    expect(await acceptedCount(server, loggedOut)).toBe(0);
  });

  it("restarted from an older snapshot: the revocations after it are not lost", async () => {
    await stopRedis(redis);
    redis = await startRedis(port, ["--save", "", "--appendonly", "no", "--dir", dataDir, "--dbfilename", "dump.rdb"]);
    await expect
      .poll(
        () =>
          store.ping().then(
            () => true,
            () => false,
          ),
        { timeout: 10_000 },
      )
      .toBe(true);
    const before = await sessionsOn(server);
    await store.redis.save();
    const after = await sessionsOn(server);

    // The snapshot holds the revocations before it, and the mark that the set was current.
    await stopRedis(redis);
    redis = await startRedis(port, ["--save", "", "--appendonly", "no", "--dir", dataDir, "--dbfilename", "dump.rdb"]);
    await expect
      .poll(
        () =>
          store.ping().then(
            () => true,
            () => false,
          ),
        { timeout: 10_000 },
      )
      .toBe(true);

    expect(await acceptedCount(server, [...before.loggedOut, ...after.loggedOut])).toBe(0);
    await expectLiveSessionsWork(server, [...before.live, ...after.live]);
    expect(await acceptedCount(server, [...before.loggedOut, ...after.loggedOut])).toBe(0);
  });

  it("fails closed while the set cannot be rebuilt, and recovers once it can", async () => {
    const { loggedOut, live } = await sessionsOn(server);
    // An ending that does not finish holds the lock every rebuild must take.
    const blocker = new pg.Client({ connectionString: database().url });
    await blocker.connect();
    try {
      await blocker.query("SELECT pg_advisory_lock_shared($1)", [endingLockKey.toString()]);
      await store.redis.flushall();
      const answers = await Promise.all(
        [...live, ...loggedOut.slice(0, 2)].map((session) =>
          server.request(mutations.me, {}, { token: session.accessToken }),
        ),
      );
      for (const answer of answers) expect(errorCodes(answer)).toEqual(["SERVICE_UNAVAILABLE"]);
    } finally {
      await blocker.end();
    }
    await expectLiveSessionsWork(server, live);
    expect(await acceptedCount(server, loggedOut)).toBe(0);
  });
});

describe("the in-process store of a restarted process", () => {
  it(`starts empty, and still accepts 0 of ${loggedOutCount} logged-out access tokens`, async () => {
    const first = await startTestServer({ databaseUrl: database().url, store: new MemoryStore() });
    const { loggedOut, live } = await sessionsOn(first);
    await first.close();
    const restarted = await startTestServer({
      databaseUrl: database().url,
      store: new MemoryStore(),
      signingKeys: first.signingKeys,
    });
    try {
      expect(await acceptedCount(restarted, loggedOut)).toBe(0);
      await expectLiveSessionsWork(restarted, live);
    } finally {
      await restarted.close();
    }
  });
});
