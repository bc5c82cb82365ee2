import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisStore } from "../src/store/redis-store.js";
import { signUp } from "./helpers/accounts.js";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import { ok, passkeyDocuments, passkeySettings, TestAuthenticator } from "./helpers/passkeys.js";
import { useRedisCluster } from "./helpers/redis-cluster.js";
import { openTestStore, startTestServer, type TestServer } from "./helpers/server.js";

useRedisCluster();

// Two instances of the subgraph sharing one PostgreSQL and one Redis (a server, or a Cluster), as
// behind a load balancer: a ceremony begun on one is finished on the other, once.
describe.each(["redis", "cluster"] as const)("two instances on one %s store", (kind) => {
  let database: TestDatabase;
  let store: RedisStore;
  let first: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = (await openTestStore(kind)) as RedisStore;
    first = await startTestServer({ databaseUrl: database.url, store, config: passkeySettings });
    second = await startTestServer({
      databaseUrl: database.url,
      store,
      signingKeys: first.signingKeys,
      config: passkeySettings,
    });
  });
  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
    await store?.close();
    await database?.drop();
  });

  it("registers on one instance what the other began, and signs in on either whatever the other began", async () => {
    const user = await signUp(first, "shared");
    const authenticator = new TestAuthenticator();
    const begun = ok(
      await first.request(passkeyDocuments.beginRegistration, {}, { token: user.accessToken }),
    ).beginPasskeyRegistration;
    const response = authenticator.create(begun.options);
    ok(
      await second.request(
        passkeyDocuments.finishRegistration,
        { challengeId: begun.challengeId, response },
        { token: user.accessToken },
      ),
    );
    // Taken from the shared store: the instance that began it cannot finish it again.
    expect(
      errorCodes(
        await first.request(
          passkeyDocuments.finishRegistration,
          { challengeId: begun.challengeId, response },
          { token: user.accessToken },
        ),
      ),
    ).toEqual(["INVALID_CHALLENGE"]);

    for (const [starter, finisher] of [
      [first, second],
      [second, first],
    ] as const) {
      for (const input of [{ usernameOrEmail: user.account.username }, {}]) {
        const login = ok(await starter.request(passkeyDocuments.beginLogin, input)).beginPasskeyLogin;
        const answer = authenticator.get(login.options);
        const signedIn = ok(
          await finisher.request(passkeyDocuments.finishLogin, { challengeId: login.challengeId, response: answer }),
        ).finishPasskeyLogin;
        expect(ok(await starter.request(mutations.me, {}, { token: signedIn.accessToken })).me.id).toBe(user.id);
        expect(
          errorCodes(
            await starter.request(passkeyDocuments.finishLogin, { challengeId: login.challengeId, response: answer }),
          ),
        ).toEqual(["INVALID_CHALLENGE"]);
      }
    }
    // Challenges live in Redis, each with the TTL of its lifetime.
    const kept = ok(await first.request(passkeyDocuments.beginLogin, {})).beginPasskeyLogin;
    const ttl = await store.redis.ttl(store.key("once", `passkey-challenge:${kept.challengeId}`));
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
  });

  it("lets one of concurrent finishes on both instances win", async () => {
    const user = await signUp(second, "race");
    const authenticator = new TestAuthenticator();
    const begun = ok(
      await second.request(passkeyDocuments.beginRegistration, {}, { token: user.accessToken }),
    ).beginPasskeyRegistration;
    ok(
      await first.request(
        passkeyDocuments.finishRegistration,
        { challengeId: begun.challengeId, response: authenticator.create(begun.options) },
        { token: user.accessToken },
      ),
    );
    for (let trial = 0; trial < 10; trial++) {
      const login = ok(
        await first.request(passkeyDocuments.beginLogin, { usernameOrEmail: user.account.email }),
      ).beginPasskeyLogin;
      const answer = authenticator.get(login.options);
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          (index % 2 === 0 ? first : second).request(passkeyDocuments.finishLogin, {
            challengeId: login.challengeId,
            response: answer,
          }),
        ),
      );
      expect(answers.filter((response) => !response.errors)).toHaveLength(1);
      for (const refused of answers.filter((response) => response.errors))
        expect(errorCodes(refused)).toEqual(["INVALID_CHALLENGE"]);
    }
    expect(await first.database.session.count({ where: { userId: user.id } })).toBe(11);
  });

  it("shows a name no account has the same made-up credential on every instance", async () => {
    const [fromFirst, fromSecond] = await Promise.all(
      [first, second].map(
        async (server) =>
          ok(await server.request(passkeyDocuments.beginLogin, { usernameOrEmail: "nobody-here" })).beginPasskeyLogin
            .options,
      ),
    );
    expect(fromFirst!.allowCredentials).toEqual(fromSecond!.allowCredentials);
    expect(fromFirst!.challenge).not.toBe(fromSecond!.challenge);
  });
});
