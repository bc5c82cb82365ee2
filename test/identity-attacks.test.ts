import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisStore } from "../src/store/redis-store.js";
import { flowLifetimeSeconds } from "../src/identities/sign-in-flows.js";
import { signUp } from "./helpers/accounts.js";
import { ManualClock } from "./helpers/clock.js";
import { ForgingProvider, type Forgery } from "./helpers/forging-provider.js";
import { errorCodes, type GraphQLResponse } from "../harness/graphql.js";
import { identityDocuments, socialLoginClient } from "./helpers/identity-providers.js";
import { capturedLogger } from "./helpers/log.js";
import { TestOpenIdProvider } from "./helpers/openid-provider.js";
import { useTestServer } from "./helpers/test-server.js";

// Every refusal of acceptance: the client learns SOCIAL_LOGIN_FAILED (or INVALID_CHALLENGE,
// BAD_USER_INPUT), nothing is stored (no account, identity, session or event; the flow spent), the
// log names the failed check, and no token, code or secret reaches the log or the answer.
const redirectUri = "https://app.example.com/auth/callback";
let idp: TestOpenIdProvider;
let forger: ForgingProvider;
beforeAll(async () => {
  [idp, forger] = await Promise.all([
    TestOpenIdProvider.start({ redirectUris: [redirectUri] }),
    ForgingProvider.start(),
  ]);
});
afterAll(async () => {
  await Promise.all([idp?.close(), forger?.close()]);
});

const { logger, lines } = capturedLogger("info");
const settings = {
  APP_URL: "https://app.example.com",
  REDIRECT_URIS: redirectUri,
  get IDENTITY_PROVIDERS() {
    return JSON.stringify([idp.setting("company"), forger.setting("forger")]);
  },
};
const server = useTestServer({ store: "redis", logger, config: settings });
const app = socialLoginClient(server, redirectUri);
/** What the attacker's browser sends back: every piece of every callback, to look for in logs. */
const secretsSeen: string[] = [];

async function stored() {
  const { database } = server();
  const store = server().store as RedisStore;
  return {
    users: await database.user.count(),
    identities: await database.identity.count(),
    sessions: await database.session.count(),
    events: await database.securityEvent.count(),
    flows: (await store.redis.keys(store.key("once", "*"))).length,
  };
}

/** A completion refused with `code`, its flow spent and nothing else stored; the logged check, if any. */
async function expectRefused(
  before: Awaited<ReturnType<typeof stored>>,
  response: GraphQLResponse,
  code = "SOCIAL_LOGIN_FAILED",
) {
  expect(errorCodes(response)).toEqual([code]);
  expect(response.data).toBeNull();
  expect(await stored()).toEqual({ ...before, flows: before.flows - 1 });
}

function lastRefusal(): { check: string; reason: string } {
  const refusal = lines
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.msg === "sign-in with an identity provider refused")
    .at(-1);
  return { check: refusal?.check, reason: refusal?.reason };
}

/** A flow started and its provider's answer, not yet completed. */
async function answered(
  login = idp.addAccount({ email: `p-${randomBytes(4).toString("hex")}@example.com`, emailVerified: true }),
) {
  const started = await app.start("company");
  const callbackUrl = await idp.signIn(started.authorizationUrl, login);
  const params = new URL(callbackUrl).searchParams;
  secretsSeen.push(params.get("code")!, params.get("state")!);
  return { ...started, callbackUrl, login, params };
}

const withParams = (callbackUrl: string, changes: Record<string, string>) => {
  const url = new URL(callbackUrl);
  for (const [name, value] of Object.entries(changes)) url.searchParams.set(name, value);
  return url.href;
};

describe("the provider's answer", () => {
  it("is refused when its state is not the flow's", async () => {
    const flow = await answered();
    const before = await stored();
    await expectRefused(
      before,
      await app.complete(flow.flowId, withParams(flow.callbackUrl, { state: randomBytes(32).toString("base64url") })),
    );
    expect(lastRefusal()).toMatchObject({ check: "authorization code grant", reason: expect.stringMatching(/state/) });
  });

  it("is refused when its iss (RFC 9207) is another issuer's, or when the provider answered with an error", async () => {
    const flow = await answered();
    const before = await stored();
    await expectRefused(
      before,
      await app.complete(flow.flowId, withParams(flow.callbackUrl, { iss: "http://127.0.0.1:1" })),
    );
    expect(lastRefusal().reason).toMatch(/iss/);
    const denied = await app.start("company");
    const state = new URL(denied.authorizationUrl).searchParams.get("state")!;
    const middle = await stored();
    await expectRefused(
      middle,
      await app.complete(
        denied.flowId,
        `${redirectUri}?error=access_denied&state=${state}&iss=${encodeURIComponent(idp.issuer)}`,
      ),
    );
    expect(lastRefusal().reason).toMatch(/error=access_denied/);
  });

  it("is refused when the callback URL is not the page the flow started with", async () => {
    const flow = await answered();
    const before = await stored();
    const elsewhere = flow.callbackUrl.replace(
      "https://app.example.com/auth/callback",
      "https://evil.example/auth/callback",
    );
    await expectRefused(before, await app.complete(flow.flowId, elsewhere));
    expect(lastRefusal()).toEqual({ check: "callback URL", reason: "not the redirect URI the sign-in started with" });
  });

  it("of one flow does not complete another flow (login CSRF): the victim's flow fails, no account is made", async () => {
    for (let trial = 0; trial < 5; trial++) {
      const attacker = await answered();
      const victim = await app.start("company");
      const before = await stored();
      await expectRefused(before, await app.complete(victim.flowId, attacker.callbackUrl));
      expect(await server().database.identity.count({ where: { subject: attacker.login } })).toBe(0);
    }
  });
});

describe("a flow", () => {
  it("completes once: again with the same id is INVALID_CHALLENGE, and of concurrent completions exactly one succeeds", async () => {
    const flow = await answered();
    expect(errorCodes(await app.complete(flow.flowId, flow.callbackUrl))).toEqual([]);
    const before = await stored();
    const again = await app.complete(flow.flowId, flow.callbackUrl);
    expect(errorCodes(again)).toEqual(["INVALID_CHALLENGE"]);
    expect(await stored()).toEqual(before);
    for (let trial = 0; trial < 10; trial++) {
      const raced = await answered();
      const sessions = await server().database.session.count();
      const answers = await Promise.all(Array.from({ length: 6 }, () => app.complete(raced.flowId, raced.callbackUrl)));
      const codes = answers.map((answer) => errorCodes(answer).join() || "OK").sort();
      expect(codes).toEqual([
        "INVALID_CHALLENGE",
        "INVALID_CHALLENGE",
        "INVALID_CHALLENGE",
        "INVALID_CHALLENGE",
        "INVALID_CHALLENGE",
        "OK",
      ]);
      expect(await server().database.session.count()).toBe(sessions + 1);
      expect(await server().database.identity.count({ where: { subject: raced.login } })).toBe(1);
    }
  });

  it("answers INVALID_CHALLENGE for ids it never issued, and BAD_USER_INPUT for a callback that is no URL, without spending the flow", async () => {
    const flow = await answered();
    for (const flowId of [
      "",
      "x",
      randomBytes(32).toString("base64url"),
      `${flow.flowId}=`,
      flow.flowId.toUpperCase(),
    ]) {
      expect(errorCodes(await app.complete(flowId, flow.callbackUrl)), flowId).toEqual(["INVALID_CHALLENGE"]);
    }
    for (const callbackUrl of [
      "",
      "not a url",
      "javascript:alert(1)",
      `/auth/callback?${flow.params}`,
      `https://app.example.com/${"x".repeat(9000)}`,
    ]) {
      const response = await app.complete(flow.flowId, callbackUrl);
      expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
      expect(response.errors![0]!.extensions!.field).toBe("callbackUrl");
    }
    expect(errorCodes(await app.complete(flow.flowId, flow.callbackUrl))).toEqual([]);
  });

  it("starts only for a redirect URI of REDIRECT_URIS exactly: no prefix, other port, path, scheme or host", async () => {
    const user = await signUp(server(), "redirects");
    const variants = [
      "https://app.example.com/auth/callbac",
      "https://app.example.com/auth/callback/",
      "https://app.example.com/auth/callback/../callback",
      "https://app.example.com/auth/callback?next=/admin",
      "https://app.example.com/auth/callback#x",
      "https://app.example.com:8443/auth/callback",
      "http://app.example.com/auth/callback",
      "https://APP.example.com/auth/callback",
      "https://app.example.com.evil.example/auth/callback",
      "https://evil.example/auth/callback",
      "https://user@app.example.com/auth/callback",
      "",
    ];
    const before = await stored();
    for (const candidate of variants) {
      for (const [query, token] of [
        [identityDocuments.start, undefined],
        [identityDocuments.link, user.accessToken],
      ] as const) {
        const response = await server().request(query, { provider: "company", redirectUri: candidate }, { token });
        expect(errorCodes(response), candidate).toEqual(["BAD_USER_INPUT"]);
        expect(response.errors![0]!.extensions!.field).toBe("redirectUri");
      }
    }
    expect(await stored()).toEqual(before);
  });
});

describe("fuzzed answers", () => {
  const text = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: "binary", maxLength: 30 }),
    fc.constantFrom("", "%00", "\u0000", "null", "x".repeat(5000)),
  );

  it("of live flows are refused (SOCIAL_LOGIN_FAILED or BAD_USER_INPUT), storing nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          code: text,
          rightState: fc.boolean(),
          state: text,
          iss: fc.oneof(text, fc.constant("issuer")),
          error: fc.option(text),
          extra: text,
        }),
        async (answer) => {
          const started = await app.start("company");
          const query = new URLSearchParams({ code: answer.code, extra: answer.extra });
          query.set(
            "state",
            answer.rightState ? new URL(started.authorizationUrl).searchParams.get("state")! : answer.state,
          );
          query.set("iss", answer.iss === "issuer" ? idp.issuer : answer.iss);
          if (answer.error !== null) query.set("error", answer.error);
          const before = await stored();
          const response = await app.complete(started.flowId, `${redirectUri}?${query}`);
          expect(["SOCIAL_LOGIN_FAILED", "BAD_USER_INPUT"]).toContain(errorCodes(response).join());
          const after = await stored();
          expect({ ...after, flows: 0 }).toEqual({ ...before, flows: 0 });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("the authorization code", () => {
  it("is refused when replayed under a new flow, and when injected into another flow before its own was completed (PKCE)", async () => {
    const first = await answered();
    expect(errorCodes(await app.complete(first.flowId, first.callbackUrl))).toEqual([]);
    for (const victim of [first, await answered()]) {
      const attacker = await app.start("company");
      const state = new URL(attacker.authorizationUrl).searchParams.get("state")!;
      const before = await stored();
      await expectRefused(before, await app.complete(attacker.flowId, withParams(victim.callbackUrl, { state })));
      expect(lastRefusal().reason).toMatch(/error=invalid_grant/);
    }
  });
});

describe("the ID token", () => {
  const forgeries: [Forgery, RegExp][] = [
    ["other-issuer", /iss/],
    ["other-audience", /aud/],
    ["other-key", /signature/i],
    ["alg-none", /alg/],
    ["other-nonce", /nonce/],
  ];

  async function forgedSignIn(forgery: Forgery) {
    forger.forgery = forgery;
    forger.person = {
      sub: `forged-${randomBytes(6).toString("hex")}`,
      email: `f-${randomBytes(4).toString("hex")}@example.com`,
      emailVerified: true,
    };
    const started = await app.start("forger");
    const callbackUrl = await forger.signIn(started.authorizationUrl);
    return { response: await app.complete(started.flowId, callbackUrl), person: forger.person };
  }

  it("is accepted when nothing is forged (the control)", async () => {
    const { response, person } = await forgedSignIn("honest");
    expect(errorCodes(response)).toEqual([]);
    expect(response.data!.completeSocialLogin.user.email).toBe(person.email);
  });

  it.each(forgeries)("is refused, nothing stored, when forged: %s", async (forgery, reason) => {
    for (let trial = 0; trial < 3; trial++) {
      const before = await stored();
      const { response, person } = await forgedSignIn(forgery);
      expect(errorCodes(response)).toEqual(["SOCIAL_LOGIN_FAILED"]);
      // The flow it started was spent: the store holds what it held.
      expect(await stored()).toEqual(before);
      expect(await server().database.user.count({ where: { email: person.email } })).toBe(0);
      expect(lastRefusal()).toMatchObject({ check: "authorization code grant", reason: expect.stringMatching(reason) });
    }
  });
});

it("never logs nor answers a token, code or state of the provider, nor its client secret", async () => {
  const logged = lines.join("\n");
  for (const secret of [...secretsSeen, ...forger.issued, idp.clientSecret, forger.clientSecret]) {
    expect(secret.length).toBeGreaterThan(10);
    expect(logged).not.toContain(secret);
  }
});

describe("an expired flow", () => {
  const clock = new ManualClock();
  const expiring = useTestServer({ store: "memory", clock, config: settings });
  const client = socialLoginClient(expiring, redirectUri);

  it(`is INVALID_CHALLENGE past ${flowLifetimeSeconds / 60} minutes, and nothing is stored`, async () => {
    const login = idp.addAccount({ email: "late@example.com", emailVerified: true });
    const started = await client.start("company");
    const callbackUrl = await idp.signIn(started.authorizationUrl, login);
    clock.advance(flowLifetimeSeconds + 1);
    const response = await client.complete(started.flowId, callbackUrl);
    expect(errorCodes(response)).toEqual(["INVALID_CHALLENGE"]);
    expect(await expiring().database.user.count()).toBe(0);
    expect(await expiring().database.identity.count()).toBe(0);
  });
});
