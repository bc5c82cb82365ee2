import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore } from "../src/store/redis-store.js";
import { createDatabase } from "../src/db/prisma.js";
import { useTestDatabase } from "./helpers/database.js";
import { errorCodes, mutations, sessionMutations } from "../harness/graphql.js";
import { freePort } from "../harness/process.js";
import { startRedis, stopRedis } from "./helpers/redis-server.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

async function readiness(server: TestServer) {
  const response = await fetch(`${server.baseUrl}/health/ready`);
  return { status: response.status, body: await response.json() };
}

const database = useTestDatabase();

describe("when Redis goes away", () => {
  let redis: ChildProcess;
  let port: number;
  let server: TestServer;
  let store: RedisStore;
  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    store = await RedisStore.connect(`redis://127.0.0.1:${port}`, "outage:");
    server = await startTestServer({ databaseUrl: database().url, store });
  });
  afterAll(async () => {
    await server.close();
    await store.close();
    await stopRedis(redis);
  });

  it("answers SERVICE_UNAVAILABLE, writes nothing, reports not ready, and recovers when Redis is back", async () => {
    const account = newAccount();
    const session = (await server.request(mutations.register, { input: account })).data!.register;
    expect((await readiness(server)).status).toBe(200);

    await stopRedis(redis);

    const me = await server.request(mutations.me, {}, { token: session.accessToken });
    expect(me.data).toEqual({ me: null });
    expect(errorCodes(me)).toEqual(["SERVICE_UNAVAILABLE"]);
    expect(JSON.stringify(me)).not.toMatch(/ECONNREFUSED|stack|ioredis/i);

    const logout = await server.request(sessionMutations.logout, {}, { token: session.accessToken });
    expect(errorCodes(logout)).toEqual(["SERVICE_UNAVAILABLE"]);
    const login = await server.request(mutations.login, {
      input: { usernameOrEmail: account.username, password: account.password },
    });
    expect(errorCodes(login)).toEqual(["SERVICE_UNAVAILABLE"]);

    const ready = await readiness(server);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      status: "unavailable",
      failing: ["revocationStore"],
      checks: { postgres: "ok" },
    });

    // Nothing half-written: the session whose logout failed is still live in PostgreSQL.
    const sessions = await server.database.session.findMany({ where: { userId: session.user.id } });
    expect(sessions.map((row) => row.revokedAt)).toEqual([null]);

    redis = await startRedis(port);
    await expect.poll(async () => (await readiness(server)).status, { timeout: 10_000, interval: 200 }).toBe(200);
    expect((await server.request(mutations.me, {}, { token: session.accessToken })).errors).toBeUndefined();
    expect((await server.request(sessionMutations.logout, {}, { token: session.accessToken })).data).toEqual({
      logout: true,
    });
  });
});

describe("when PostgreSQL cannot be reached", () => {
  let server: TestServer;
  let healthy: TestServer;
  beforeAll(async () => {
    healthy = await startTestServer({ databaseUrl: database().url });
    const unreachable = createDatabase(`postgresql://postgres:postgres@127.0.0.1:${await freePort()}/nowhere`);
    server = await startTestServer({
      databaseUrl: database().url,
      database: unreachable,
      signingKeys: healthy.signingKeys,
    });
  });
  afterAll(async () => {
    await server.close();
    await server.database.$disconnect();
    await healthy.close();
  });

  it("answers SERVICE_UNAVAILABLE without details and reports postgres as not ready", async () => {
    const register = await server.request(mutations.register, { input: newAccount() });
    expect(register.data).toBeNull();
    expect(errorCodes(register)).toEqual(["SERVICE_UNAVAILABLE"]);
    expect(register.errors![0]!.message).toBe("The service is temporarily unavailable. Try again later.");

    const session = (await healthy.request(mutations.register, { input: newAccount() })).data!.register;
    const me = await server.request(mutations.me, {}, { token: session.accessToken });
    expect(errorCodes(me)).toEqual(["SERVICE_UNAVAILABLE"]);

    const ready = await readiness(server);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ failing: ["postgres"], checks: { revocationStore: "ok" } });
    expect((await fetch(`${server.baseUrl}/health/live`)).status).toBe(200);
  });
});
