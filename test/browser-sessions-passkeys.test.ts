import { readFile } from "node:fs/promises";
import { Kind, parse, type ObjectTypeDefinitionNode, type TypeNode } from "graphql";
import { describe, expect, it } from "vitest";
import { subgraphSdlPath } from "../src/subgraph-schema.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import {
  CookieClient,
  type CookieResponse,
  expectCookieDelivery as expectDelivery,
  payloadOf,
} from "./helpers/browser-client.js";
import { ManualClock } from "./helpers/clock.js";
import { authenticatorCode, mfaClient, mfaDocuments } from "./helpers/mfa.js";
import {
  appOrigin,
  beginLogin,
  passkeyDocuments,
  passkeySettings,
  registerPasskey,
  TestAuthenticator,
} from "./helpers/passkeys.js";
import { useTestServer } from "./helpers/test-server.js";

// Every way a passkey signs in hands its tokens over as login does: in cookie mode, the refresh
// token only in the cookie, whether the passkey signs in alone, completes a login awaiting a second
// factor, or is itself completed by a code.
const clock = new ManualClock();
const server = useTestServer({
  clock,
  config: { ...passkeySettings, CORS_ORIGINS: appOrigin, REFRESH_TOKEN_TTL: "7d" },
});
const client = mfaClient(server, clock);
const weekSeconds = 7 * 86400;
const trials = 5;

const refresh = `mutation { refreshSession { accessToken refreshToken user { id } } }`;
const expectCookieDelivery = (response: CookieResponse) => expectDelivery(response, weekSeconds);

/** A page of the app: cookie mode, the app's origin (the one WebAuthn answers are accepted from). */
const browser = () => new CookieClient(server().url, { origin: appOrigin });

/** `finishPasskeyLogin` from `page`, `authenticator` answering a challenge begun for `input`. */
async function finishFrom(
  page: CookieClient,
  authenticator: TestAuthenticator,
  input: { usernameOrEmail?: string; mfaToken?: string } = {},
): Promise<CookieResponse> {
  const { challengeId, options } = await beginLogin(server(), input);
  return page.request(passkeyDocuments.finishLogin, { challengeId, response: authenticator.get(options) });
}

function mfaTokenOf(response: CookieResponse): string {
  expect(errorCodes(response)).toEqual(["MFA_REQUIRED"]);
  // Nothing is issued before the second factor: no cookie either.
  expect(response.setCookies).toEqual([]);
  return response.errors![0]!.extensions!.mfaToken as string;
}

/** The cookie works: it refreshes the session of `userId`, and the next cookie replaces it. */
async function expectCookieRefreshes(page: CookieClient, userId: string): Promise<void> {
  const before = page.cookie;
  const refreshed = await page.request(refresh);
  expectCookieDelivery(refreshed);
  expect(page.cookie).not.toBe(before);
  expect(payloadOf(refreshed).user.id).toBe(userId);
}

/** An account with TOTP on and one passkey of each kind. */
async function mfaAccountWithPasskeys() {
  const account = await client.registerWithMfa();
  const verifying = new TestAuthenticator();
  const presenceOnly = new TestAuthenticator({ userVerified: false });
  await registerPasskey(server(), account.accessToken, verifying, "Verifying");
  await registerPasskey(server(), account.accessToken, presenceOnly, "Presence only");
  return { ...account, verifying, presenceOnly };
}

describe("a passkey sign-in in cookie mode", () => {
  it("delivers the refresh token only as the cookie, by name or discoverable; the cookie refreshes", async () => {
    for (let trial = 0; trial < trials; trial++) {
      const { account, userId, accessToken } = await client.register();
      const authenticator = new TestAuthenticator();
      await registerPasskey(server(), accessToken, authenticator);
      for (const input of [{ usernameOrEmail: account.username }, {}]) {
        const page = browser();
        const signedIn = await finishFrom(page, authenticator, input);
        expectCookieDelivery(signedIn);
        expect(payloadOf(signedIn).user.id).toBe(userId);
        await expectCookieRefreshes(page, userId);
      }
    }
  });

  it("completes a password login awaiting a second factor: the cookie only then", async () => {
    for (let trial = 0; trial < trials; trial++) {
      const account = await mfaAccountWithPasskeys();
      const page = browser();
      const login = await page.request(mutations.login, {
        input: { usernameOrEmail: account.account.username, password: account.account.password },
      });
      const completed = await finishFrom(page, account.verifying, { mfaToken: mfaTokenOf(login) });
      expectCookieDelivery(completed);
      await expectCookieRefreshes(page, account.userId);
    }
  });

  it("is completed by a code after a passkey without user verification: the cookie only then", async () => {
    for (let trial = 0; trial < trials; trial++) {
      const account = await mfaAccountWithPasskeys();
      const page = browser();
      const mfaToken = mfaTokenOf(
        await finishFrom(page, account.presenceOnly, { usernameOrEmail: account.account.email }),
      );
      const completed = await page.request(mfaDocuments.complete, {
        mfaToken,
        code: await authenticatorCode(account.secret, clock),
      });
      expectCookieDelivery(completed);
      await expectCookieRefreshes(page, account.userId);
      client.nextStep();
    }
  });

  it("sets no cookie when the answer is refused: a replayed challenge, another account's passkey", async () => {
    const { account, accessToken } = await client.register();
    const authenticator = new TestAuthenticator();
    await registerPasskey(server(), accessToken, authenticator);
    const { challengeId, options } = await beginLogin(server(), { usernameOrEmail: account.username });
    const answer = authenticator.get(options);
    expectCookieDelivery(await browser().request(passkeyDocuments.finishLogin, { challengeId, response: answer }));
    const replayed = await browser().request(passkeyDocuments.finishLogin, { challengeId, response: answer });
    expect(errorCodes(replayed)).toEqual(["INVALID_CHALLENGE"]);
    expect(replayed.setCookies).toEqual([]);
    const stranger = await client.register();
    const strangers = new TestAuthenticator();
    await registerPasskey(server(), stranger.accessToken, strangers);
    const named = await beginLogin(server(), { usernameOrEmail: account.username });
    const mismatched = await browser().request(passkeyDocuments.finishLogin, {
      challengeId: named.challengeId,
      response: strangers.get({ ...named.options, allowCredentials: undefined }),
    });
    expect(errorCodes(mismatched)).toEqual(["INVALID_PASSKEY"]);
    expect(mismatched.setCookies).toEqual([]);
  });

  it("sets one cookie when pages finish the same challenge at once; the others none (10 trials × 4 pages)", async () => {
    const { account, accessToken } = await client.register();
    const authenticator = new TestAuthenticator();
    await registerPasskey(server(), accessToken, authenticator);
    for (let trial = 0; trial < 10; trial++) {
      const { challengeId, options } = await beginLogin(server(), { usernameOrEmail: account.username });
      const response = authenticator.get(options);
      const pages = [0, 1, 2, 3].map(() => browser());
      const answers = await Promise.all(
        pages.map((page) => page.request(passkeyDocuments.finishLogin, { challengeId, response })),
      );
      const delivered = answers.filter((answer) => answer.errors === undefined);
      expect(delivered).toHaveLength(1);
      expectCookieDelivery(delivered[0]!);
      for (const refused of answers.filter((answer) => answer.errors !== undefined)) {
        expect(errorCodes(refused)).toEqual(["INVALID_CHALLENGE"]);
        expect(refused.setCookies).toEqual([]);
      }
      expect(pages.filter((page) => page.cookie !== undefined)).toHaveLength(1);
    }
  });

  it("is refused from a page of another origin before the answer is looked at: FORBIDDEN_ORIGIN", async () => {
    const { account, accessToken } = await client.register();
    const authenticator = new TestAuthenticator();
    await registerPasskey(server(), accessToken, authenticator);
    for (const origin of ["http://localhost:5174", "https://evil.example", "null"]) {
      const { challengeId, options } = await beginLogin(server(), { usernameOrEmail: account.username });
      const elsewhere = new CookieClient(server().url, { origin });
      const refused = await elsewhere.request(passkeyDocuments.finishLogin, {
        challengeId,
        response: authenticator.get(options),
      });
      expect(refused.status, origin).toBe(403);
      expect(errorCodes(refused), origin).toEqual(["FORBIDDEN_ORIGIN"]);
      expect(refused.setCookies).toEqual([]);
      // The challenge was not spent: the app's own page can still answer it.
      expectCookieDelivery(
        await browser().request(passkeyDocuments.finishLogin, { challengeId, response: authenticator.get(options) }),
      );
    }
  });
});

describe("a passkey sign-in in bearer mode", () => {
  it("is unchanged: the refresh token in the body, no cookie set", async () => {
    const { account, accessToken } = await client.register();
    const authenticator = new TestAuthenticator();
    await registerPasskey(server(), accessToken, authenticator);
    const app = new CookieClient(server().url, { transport: null });
    const signedIn = await finishFrom(app, authenticator, { usernameOrEmail: account.username });
    expect(payloadOf(signedIn).refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signedIn.setCookies).toEqual([]);
  });
});

/** The operations these tests, test/browser-sessions.test.ts and test/browser-sessions-identities.test.ts deliver in cookie mode. */
const provenInCookieMode = [
  "changePassword",
  "completeLogin",
  "completeSocialLogin",
  "finishPasskeyLogin",
  "login",
  "refreshSession",
  "register",
];

const namedType = (type: TypeNode): string => (type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type));

it("covers every operation that issues a refresh token: each mutation answering an AuthPayload", async () => {
  const document = parse(await readFile(subgraphSdlPath, "utf8"));
  const mutation = document.definitions.find(
    (definition): definition is ObjectTypeDefinitionNode =>
      definition.kind === Kind.OBJECT_TYPE_DEFINITION && definition.name.value === "Mutation",
  )!;
  const issuing = mutation
    .fields!.filter((field) => namedType(field.type) === "AuthPayload")
    .map((field) => field.name.value);
  expect(issuing.sort()).toEqual(provenInCookieMode);
});
