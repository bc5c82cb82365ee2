import { afterAll, beforeAll, expect, it } from "vitest";
import type { RedisStore } from "../src/store/redis-store.js";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { errorCodes, mutations, sessionMutations } from "../harness/graphql.js";
import { newAccount, openTestStore, startTestServer, type TestServer } from "./helpers/server.js";

let database: TestDatabase;
let store: RedisStore;
let first: TestServer;
let second: TestServer;

// Two instances of the subgraph sharing one PostgreSQL and one Redis, as behind a load balancer.
beforeAll(async () => {
  database = await createTestDatabase();
  store = (await openTestStore("redis")) as RedisStore;
  first = await startTestServer({ databaseUrl: database.url, store, config: { ACCESS_TOKEN_TTL: "15m" } });
  second = await startTestServer({
    databaseUrl: database.url,
    store,
    signingKeys: first.signingKeys,
    config: { ACCESS_TOKEN_TTL: "15m" },
  });
});
afterAll(async () => {
  await Promise.all([first.close(), second.close()]);
  await store.close();
  await database.drop();
});

it("a logout on one instance is honoured by the other on its next request", async () => {
  const session = (await first.request(mutations.register, { input: newAccount() })).data!.register;
  expect((await second.request(mutations.me, {}, { token: session.accessToken })).errors).toBeUndefined();

  expect((await first.request(sessionMutations.logout, {}, { token: session.accessToken })).data).toEqual({
    logout: true,
  });
  expect(errorCodes(await second.request(mutations.me, {}, { token: session.accessToken }))).toEqual([
    "UNAUTHENTICATED",
  ]);
});

it("keeps revocations in Redis only as long as the tokens they guard could live", async () => {
  const session = (await first.request(mutations.register, { input: newAccount() })).data!.register;
  const sessionId = JSON.parse(Buffer.from(session.accessToken.split(".")[1], "base64url").toString()).sid;
  await second.request(sessionMutations.logout, {}, { token: session.accessToken });

  const ttl = await store.redis.ttl(store.key("session", sessionId));
  expect(ttl).toBeGreaterThan(15 * 60 - 30);
  expect(ttl).toBeLessThanOrEqual(15 * 60);

  // Every key the subgraph writes expires by itself, login-attempt counters included.
  await first.request(mutations.login, { input: { usernameOrEmail: "nobody-at-all", password: "whatever it is" } });
  const keys = [
    ...(await store.redis.keys(`${store.key("session", "")}*`)),
    ...(await store.redis.keys(`${store.key("hits", "")}*`)),
  ];
  expect(keys.some((key) => key.includes(":hits:"))).toBe(true);
  for (const key of keys) expect(await store.redis.ttl(key), key).toBeGreaterThan(0);
});
