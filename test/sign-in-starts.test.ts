import { describe, expect, it } from "vitest";
import { errorCodes, type GraphQLResponse } from "../harness/graphql.js";
import { signInStartWindowSeconds } from "../src/rate-limit/password-attempts.js";
import type { RedisStore } from "../src/store/redis-store.js";
import { signUp } from "./helpers/accounts.js";
import { identityDocuments } from "./helpers/identity-providers.js";
import { passkeyDocuments, passkeySettings } from "./helpers/passkeys.js";
import { testConfig } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

// Each start of a passkey sign-in or a sign-in with a provider keeps a value in the shared store
// until it is answered or expires: one client address may keep only SIGN_IN_STARTS_PER_ADDRESS.
const allowance = 5;
const redirectUri = "https://app.example.com/auth/callback";
// A GitHub preset is never asked anything before a browser goes there: no provider runs here.
const github = { kind: "github", id: "github", name: "GitHub", clientId: "starts", clientSecret: "starts-secret" };
const server = useTestServer({
  store: "redis",
  // Clients are told apart by X-Forwarded-For, which the test (a trusted proxy) sets.
  config: {
    ...passkeySettings,
    TRUST_PROXY: "127.0.0.1",
    APP_URL: "https://app.example.com",
    IDENTITY_PROVIDERS: JSON.stringify([github]),
  },
  loginLimits: { ...testConfig().passwordAttempts, signInStartsPerAddress: allowance },
});

const as = (client: string, token?: string) => ({
  headers: { "x-forwarded-for": client },
  ...(token ? { token } : {}),
});
const beginPasskeyLogin = (client: string, variables: Record<string, unknown> = {}) =>
  server().request(passkeyDocuments.beginLogin, variables, as(client));
const startSocialLogin = (client: string, uri = redirectUri) =>
  server().request(identityDocuments.start, { provider: "github", redirectUri: uri }, as(client));

async function valuesKept(): Promise<number> {
  const store = server().store as RedisStore;
  return (await store.redis.keys(store.key("once", "*"))).length;
}

function expectRateLimited(response: GraphQLResponse): void {
  expect(errorCodes(response)).toEqual(["RATE_LIMITED"]);
  expect(response.data).toBeNull();
  const retryAfter = response.errors![0]!.extensions!.retryAfterSeconds as number;
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(signInStartWindowSeconds);
}

describe("sign-in starts per client address", () => {
  it("allow passkey sign-ins and provider sign-ins together up to the allowance, then RATE_LIMITED, storing nothing more", async () => {
    const client = "203.0.113.130";
    const before = await valuesKept();
    for (let index = 0; index < allowance; index++) {
      const response = index % 2 === 0 ? await beginPasskeyLogin(client) : await startSocialLogin(client);
      expect(response.errors).toBeUndefined();
    }
    expect(await valuesKept()).toBe(before + allowance);
    expectRateLimited(await beginPasskeyLogin(client));
    expectRateLimited(await beginPasskeyLogin(client, { usernameOrEmail: "someone" }));
    expectRateLimited(await startSocialLogin(client));
    expect(await valuesKept()).toBe(before + allowance);
    // Another client has its own allowance.
    expect((await beginPasskeyLogin("203.0.113.131")).errors).toBeUndefined();
    expect((await startSocialLogin("203.0.113.131")).errors).toBeUndefined();
  });

  it("counts linkIdentity too, whoever is signed in", async () => {
    const client = "203.0.113.140";
    const user = await signUp(server(), "starts");
    const link = () =>
      server().request(identityDocuments.link, { provider: "github", redirectUri }, as(client, user.accessToken));
    for (let index = 0; index < allowance; index++) expect((await link()).errors).toBeUndefined();
    expectRateLimited(await link());
    expectRateLimited(await startSocialLogin(client));
  });

  it("does not count a start refused as BAD_USER_INPUT", async () => {
    const client = "203.0.113.150";
    for (let index = 0; index < allowance * 3; index++) {
      expect(errorCodes(await startSocialLogin(client, `${redirectUri}/elsewhere`))).toEqual(["BAD_USER_INPUT"]);
      const both = await beginPasskeyLogin(client, { usernameOrEmail: "someone", mfaToken: "token" });
      expect(errorCodes(both)).toEqual(["BAD_USER_INPUT"]);
    }
    for (let index = 0; index < allowance; index++) expect((await startSocialLogin(client)).errors).toBeUndefined();
    expectRateLimited(await startSocialLogin(client));
  });

  it("lets no more than the allowance through when a client starts many at once (10 trials)", async () => {
    for (let trial = 0; trial < 10; trial++) {
      const client = `198.51.100.${trial + 1}`;
      const before = await valuesKept();
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          index % 2 === 0 ? beginPasskeyLogin(client) : startSocialLogin(client),
        ),
      );
      const started = responses.filter((response) => response.errors === undefined);
      expect(started).toHaveLength(allowance);
      for (const response of responses.filter((response) => response.errors !== undefined)) expectRateLimited(response);
      expect(await valuesKept()).toBe(before + allowance);
    }
  });
});
