import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisRevocationStore } from "../src/auth/revocation/redis-revocation-store.js";
import { flowLifetimeSeconds } from "../src/identities/sign-in-flows.js";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { logIn, signUp } from "./helpers/accounts.js";
import { ManualClock } from "./helpers/clock.js";
import { ForgingProvider, type Forgery } from "./helpers/forging-provider.js";
import { errorCodes, type GraphQLResponse } from "./helpers/graphql.js";
import { identityDocuments, socialLoginClient } from "./helpers/identity-providers.js";
import { capturedLogger } from "./helpers/log.js";
import { linkToken, type TemporaryFileTransport } from "./helpers/mail.js";
import { TestOpenIdProvider } from "./helpers/openid-provider.js";
import { useTestServer } from "./helpers/test-server.js";

// Every refusal of acceptance: the client learns SOCIAL_LOGIN_FAILED (or INVALID_CHALLENGE,
// BAD_USER_INPUT), nothing is stored (no account, identity, session or event; the flow spent), the
// log names the failed check, and no token, code or secret reaches the log or the answer.
const redirectUri = "https://app.example.com/auth/callback";
let idp: TestOpenIdProvider;
let forger: ForgingProvider;
beforeAll(async () => {
  [idp, forger] = await Promise.all([TestOpenIdProvider.start({ redirectUris: [redirectUri] }), ForgingProvider.start()]);
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
  const store = server().revocationStore as RedisRevocationStore;
  return {
    users: await database.user.count(),
    identities: await database.identity.count(),
    sessions: await database.session.count(),
    events: await database.securityEvent.count(),
    flows: (await store.redis.keys(store.key("once", "*"))).length,
  };
}

/** A completion refused with `code`, its flow spent and nothing else stored; the logged check, if any. */
async function expectRefused(before: Awaited<ReturnType<typeof stored>>, response: GraphQLResponse, code = "SOCIAL_LOGIN_FAILED") {
  expect(errorCodes(response)).toEqual([code]);
  expect(response.data).toBeNull();
  expect(await stored()).toEqual({ ...before, flows: before.flows - 1 });
}

function lastRefusal(): { check: string; reason: string } {
  const refusal = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === "sign-in with an identity provider refused").at(-1);
  return { check: refusal?.check, reason: refusal?.reason };
}

/** A flow started and its provider's answer, not yet completed. */
async function answered(login = idp.addAccount({ email: `p-${randomBytes(4).toString("hex")}@example.com`, emailVerified: true })) {
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
    await expectRefused(before, await app.complete(flow.flowId, withParams(flow.callbackUrl, { state: randomBytes(32).toString("base64url") })));
    expect(lastRefusal()).toMatchObject({ check: "authorization code grant", reason: expect.stringMatching(/state/) });
  });

  it("is refused when its iss (RFC 9207) is another issuer's, or when the provider answered with an error", async () => {
    const flow = await answered();
    const before = await stored();
    await expectRefused(before, await app.complete(flow.flowId, withParams(flow.callbackUrl, { iss: "http://127.0.0.1:1" })));
    expect(lastRefusal().reason).toMatch(/iss/);
    const denied = await app.start("company");
    const state = new URL(denied.authorizationUrl).searchParams.get("state")!;
    const middle = await stored();
    await expectRefused(middle, await app.complete(denied.flowId, `${redirectUri}?error=access_denied&state=${state}&iss=${encodeURIComponent(idp.issuer)}`));
    expect(lastRefusal().reason).toMatch(/error=access_denied/);
  });

  it("is refused when the callback URL is not the page the flow started with", async () => {
    const flow = await answered();
    const before = await stored();
    const elsewhere = flow.callbackUrl.replace("https://app.example.com/auth/callback", "https://evil.example/auth/callback");
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
      expect(codes).toEqual(["INVALID_CHALLENGE", "INVALID_CHALLENGE", "INVALID_CHALLENGE", "INVALID_CHALLENGE", "INVALID_CHALLENGE", "OK"]);
      expect(await server().database.session.count()).toBe(sessions + 1);
      expect(await server().database.identity.count({ where: { subject: raced.login } })).toBe(1);
    }
  });

  it("answers INVALID_CHALLENGE for ids it never issued, and BAD_USER_INPUT for a callback that is no URL, without spending the flow", async () => {
    const flow = await answered();
    for (const flowId of ["", "x", randomBytes(32).toString("base64url"), `${flow.flowId}=`, flow.flowId.toUpperCase()]) {
      expect(errorCodes(await app.complete(flowId, flow.callbackUrl)), flowId).toEqual(["INVALID_CHALLENGE"]);
    }
    for (const callbackUrl of ["", "not a url", "javascript:alert(1)", `/auth/callback?${flow.params}`, `https://app.example.com/${"x".repeat(9000)}`]) {
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
      for (const [query, token] of [[identityDocuments.start, undefined], [identityDocuments.link, user.accessToken]] as const) {
        const response = await server().request(query, { provider: "company", redirectUri: candidate }, { token });
        expect(errorCodes(response), candidate).toEqual(["BAD_USER_INPUT"]);
        expect(response.errors![0]!.extensions!.field).toBe("redirectUri");
      }
    }
    expect(await stored()).toEqual(before);
  });
});

describe("pre-account takeover", () => {
  /** The token of the link to `page` mailed to `address` (a reset link goes out after the answer: waited for). */
  async function mailedLink(address: string, page: string): Promise<string> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const messages = await (server().mailTransport as TemporaryFileTransport).messages();
      const mail = messages.find((message) => message.to.includes(address) && message.text.includes(`/${page}?token=`));
      if (mail) return linkToken(mail, page);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`no ${page} link mailed to ${address}`);
  }

  const person = (email: string, emailVerified: boolean) => idp.addAccount({ email, emailVerified });
  const signInAs = (login: string, token?: string) => app.signIn("company", (url) => idp.signIn(url, login), token);

  it("through a provider that does not check addresses: the victim's reset drops the maker's identity and sessions", async () => {
    const victimEmail = `victim-${randomBytes(4).toString("hex")}@example.com`;
    // The attacker makes the account with the victim's address, unverified, and keeps a session.
    const attacker = person(victimEmail, false);
    const made = (await signInAs(attacker)).data!.completeSocialLogin;
    // The victim, at a provider that vouches for the address, is not let in.
    const victim = person(victimEmail, true);
    expect(errorCodes(await signInAs(victim))).toEqual(["ACCOUNT_LINK_REQUIRED"]);
    // Even once the victim, not signed in, followed a verification link the attacker asked for.
    await server().request(lifecycle.requestEmailVerification, {}, { token: made.accessToken });
    expect((await server().request(lifecycle.verifyEmail, { token: await mailedLink(victimEmail, "verify-email") })).data).toEqual({ verifyEmail: true });
    expect(errorCodes(await signInAs(victim))).toEqual(["ACCOUNT_LINK_REQUIRED"]);
    // The victim takes the account over with the reset link: the attacker's identity and sessions go.
    await server().request(lifecycle.requestPasswordReset, { email: victimEmail });
    const reset = await server().request(lifecycle.resetPassword, { token: await mailedLink(victimEmail, "reset-password"), newPassword: "the victim's own password" });
    expect(reset.data).toEqual({ resetPassword: true });
    expect(await server().database.identity.count({ where: { userId: made.user.id } })).toBe(0);
    expect(await server().database.securityEvent.findFirst({ where: { userId: made.user.id, kind: "identity_unlinked" }, select: { actorId: true, details: true } })).toEqual({
      actorId: null,
      details: { provider: "company", by: "password_reset" },
    });
    expect(errorCodes(await server().request(identityDocuments.me, {}, { token: made.accessToken }))).toEqual(["UNAUTHENTICATED"]);
    expect(errorCodes(await signInAs(attacker))).toEqual(["ACCOUNT_LINK_REQUIRED"]);
    // The victim's own provider identity now links, and only it.
    expect((await signInAs(victim)).data!.completeSocialLogin.user.id).toBe(made.user.id);
    expect(await server().database.identity.findMany({ where: { userId: made.user.id }, select: { subject: true } })).toEqual([{ subject: victim }]);
  });

  it("through an identity linked to a registration with the victim's address: the reset drops it too", async () => {
    const squatter = await signUp(server(), "squat");
    const attacker = person(`attacker-${randomBytes(4).toString("hex")}@example.com`, true);
    expect(errorCodes(await signInAs(attacker, squatter.accessToken))).toEqual([]);
    await server().request(lifecycle.requestPasswordReset, { email: squatter.account.email });
    const token = await mailedLink(squatter.account.email, "reset-password");
    expect((await server().request(lifecycle.resetPassword, { token, newPassword: "the victim's own password" })).data).toEqual({ resetPassword: true });
    expect(await server().database.identity.count({ where: { userId: squatter.id } })).toBe(0);
    expect(errorCodes(await logIn(server(), squatter.account))).toEqual(["INVALID_CREDENTIALS"]);
    expect((await signInAs(attacker)).data!.completeSocialLogin.user.id).not.toBe(squatter.id);
  });

  it("does not cost an owner who verified the address signed in their identity at a reset", async () => {
    const email = `owner-${randomBytes(4).toString("hex")}@example.com`;
    const login = person(email, false);
    const made = (await signInAs(login)).data!.completeSocialLogin;
    await server().request(lifecycle.requestEmailVerification, {}, { token: made.accessToken });
    const verified = await server().request(lifecycle.verifyEmail, { token: await mailedLink(email, "verify-email") }, { token: made.accessToken });
    expect(verified.data).toEqual({ verifyEmail: true });
    await server().request(lifecycle.requestPasswordReset, { email });
    expect((await server().request(lifecycle.resetPassword, { token: await mailedLink(email, "reset-password"), newPassword: "a password of my own" })).data).toEqual({
      resetPassword: true,
    });
    expect((await signInAs(login)).data!.completeSocialLogin.user.id).toBe(made.user.id);
  });
});

describe("races", () => {
  /** `count` flows of one person, each answered by the provider, none completed yet. */
  async function answeredFlows(login: string, count: number, token?: string) {
    return Promise.all(
      Array.from({ length: count }, async () => {
        const started = await app.start("company", token);
        return { ...started, callbackUrl: await idp.signIn(started.authorizationUrl, login) };
      }),
    );
  }

  it("of first sign-ins of one person make one account, and every one of them signs in to it", async () => {
    for (let trial = 0; trial < 8; trial++) {
      const login = idp.addAccount({ email: `race-${randomBytes(4).toString("hex")}@example.com`, emailVerified: trial % 2 === 0 });
      const flows = await answeredFlows(login, 4);
      const answers = await Promise.all(flows.map((flow) => app.complete(flow.flowId, flow.callbackUrl)));
      expect(answers.map((answer) => errorCodes(answer).join())).toEqual(["", "", "", ""]);
      expect(new Set(answers.map((answer) => answer.data!.completeSocialLogin.user.id)).size).toBe(1);
      expect(await server().database.identity.count({ where: { subject: login } })).toBe(1);
    }
  });

  it("of automatic links of one person link once, to the one account", async () => {
    for (let trial = 0; trial < 5; trial++) {
      const local = await signUp(server(), "racelink");
      await server().database.user.update({ where: { id: local.id }, data: { emailVerifiedAt: new Date() } });
      const login = idp.addAccount({ email: local.account.email, emailVerified: true });
      const flows = await answeredFlows(login, 4);
      const answers = await Promise.all(flows.map((flow) => app.complete(flow.flowId, flow.callbackUrl)));
      expect(answers.map((answer) => answer.data?.completeSocialLogin.user.id ?? errorCodes(answer).join())).toEqual([local.id, local.id, local.id, local.id]);
      expect(await server().database.identity.findMany({ where: { subject: login }, select: { userId: true } })).toEqual([{ userId: local.id }]);
      expect(await server().database.securityEvent.count({ where: { userId: local.id, kind: "identity_linked" } })).toBe(1);
    }
  });

  it("of unlinks of an account's last two identities, without a password, leave one", async () => {
    for (let trial = 0; trial < 6; trial++) {
      const first = idp.addAccount({ email: `two-${randomBytes(4).toString("hex")}@example.com`, emailVerified: true });
      const made = await app.complete(...(await answeredFlows(first, 1)).map((flow) => [flow.flowId, flow.callbackUrl] as const)[0]!);
      const { accessToken, user } = made.data!.completeSocialLogin;
      const second = idp.addAccount({ email: `other-${randomBytes(4).toString("hex")}@example.com`, emailVerified: false });
      const [link] = await answeredFlows(second, 1, accessToken);
      const linked = await app.complete(link!.flowId, link!.callbackUrl, accessToken);
      const token = linked.data!.completeSocialLogin.accessToken;
      const ids = (await server().database.identity.findMany({ where: { userId: user.id } })).map((identity) => identity.id);
      expect(ids).toHaveLength(2);
      const answers = await Promise.all(ids.map((id) => server().request(identityDocuments.unlink, { id }, { token })));
      expect(answers.map((answer) => errorCodes(answer).join() || String(answer.data!.unlinkIdentity)).sort()).toEqual(["LAST_SIGN_IN_METHOD", "true"]);
      expect(await server().database.identity.count({ where: { userId: user.id } })).toBe(1);
    }
  });
});

describe("fuzzed answers", () => {
  const text = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: "binary", maxLength: 30 }), fc.constantFrom("", "%00", "\u0000", "null", "x".repeat(5000)));

  it("of live flows are refused (SOCIAL_LOGIN_FAILED or BAD_USER_INPUT), storing nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ code: text, rightState: fc.boolean(), state: text, iss: fc.oneof(text, fc.constant("issuer")), error: fc.option(text), extra: text }),
        async (answer) => {
          const started = await app.start("company");
          const query = new URLSearchParams({ code: answer.code, extra: answer.extra });
          query.set("state", answer.rightState ? new URL(started.authorizationUrl).searchParams.get("state")! : answer.state);
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
    forger.person = { sub: `forged-${randomBytes(6).toString("hex")}`, email: `f-${randomBytes(4).toString("hex")}@example.com`, emailVerified: true };
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
