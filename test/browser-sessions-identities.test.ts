import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCodes } from "../harness/graphql.js";
import { appOrigin } from "../harness/test-authenticator.js";
import {
  CookieClient,
  type CookieResponse,
  expectCookieDelivery as expectDelivery,
  payloadOf,
} from "./helpers/browser-client.js";
import { ManualClock } from "./helpers/clock.js";
import { identityDocuments, type Started } from "./helpers/identity-providers.js";
import { authenticatorCode, mfaClient, mfaDocuments } from "./helpers/mfa.js";
import { TestOpenIdProvider } from "./helpers/openid-provider.js";
import { useTestServer } from "./helpers/test-server.js";

// A sign-in with an identity provider hands its tokens over as login does: in cookie mode, the
// refresh token only in the cookie, whether it signs in alone, links an identity to the viewer, or
// is completed by a code. A real OpenID provider (oidc-provider on loopback) answers.
const redirectUri = `${appOrigin}/auth/callback`;
let idp: TestOpenIdProvider;
beforeAll(async () => {
  idp = await TestOpenIdProvider.start({ redirectUris: [redirectUri] });
});
afterAll(() => idp?.close());

const clock = new ManualClock();
const server = useTestServer({
  store: "redis",
  clock,
  config: {
    APP_URL: appOrigin,
    CORS_ORIGINS: appOrigin,
    REFRESH_TOKEN_TTL: "7d",
    get IDENTITY_PROVIDERS() {
      return JSON.stringify([idp.setting("company", "Company IdP")]);
    },
  },
});
const client = mfaClient(server, clock);
const weekSeconds = 7 * 86400;
const trials = 5;

const refresh = `mutation { refreshSession { accessToken refreshToken user { id } } }`;
const expectCookieDelivery = (response: CookieResponse) => expectDelivery(response, weekSeconds);

/** A page of the app: cookie mode, the app's origin. */
const browser = () => new CookieClient(server().url, { origin: appOrigin });

/** A new person at the provider, with an address it vouches for. */
const person = (email = `person-${Math.random().toString(36).slice(2)}@example.com`) =>
  idp.addAccount({ email, emailVerified: true });

/**
 * From `page`: the flow started (a link of the viewer's with `token`), the person signed in at the
 * provider, and the URL it sends the browser back to.
 */
async function leaveFor(page: CookieClient, login: string, token?: string) {
  const started = await page.request<Record<string, Started>>(
    token ? identityDocuments.link : identityDocuments.start,
    { provider: "company", redirectUri },
    { token },
  );
  expect(started.errors).toBeUndefined();
  const { flowId, authorizationUrl } = Object.values(started.data!)[0]!;
  return { flowId, callbackUrl: await idp.signIn(authorizationUrl, login) };
}

/** `completeSocialLogin` from `page`. */
const completeFrom = (page: CookieClient, flow: { flowId: string; callbackUrl: string }, token?: string) =>
  page.request(identityDocuments.complete, flow, { token });

/** The whole sign-in from `page`: `completeSocialLogin`'s answer. */
const signInFrom = async (page: CookieClient, login: string, token?: string) =>
  completeFrom(page, await leaveFor(page, login, token), token);

/** The cookie works: it refreshes the session of `userId`, and the next cookie replaces it. */
async function expectCookieRefreshes(page: CookieClient, userId: string): Promise<void> {
  const before = page.cookie;
  const refreshed = await page.request(refresh);
  expectCookieDelivery(refreshed);
  expect(page.cookie).not.toBe(before);
  expect(payloadOf(refreshed).user.id).toBe(userId);
}

function expectRefused(response: CookieResponse, code: string): void {
  expect(errorCodes(response)).toEqual([code]);
  expect(response.setCookies).toEqual([]);
}

describe("a provider sign-in in cookie mode", () => {
  it("delivers the refresh token only as the cookie, for a new account and then the linked one; the cookie refreshes", async () => {
    for (let trial = 0; trial < trials; trial++) {
      const login = person();
      const first = browser();
      const made = await signInFrom(first, login);
      expectCookieDelivery(made);
      const userId = payloadOf(made).user.id;
      await expectCookieRefreshes(first, userId);
      const again = browser();
      const signedIn = await signInFrom(again, login);
      expectCookieDelivery(signedIn);
      expect(payloadOf(signedIn).user.id).toBe(userId);
      await expectCookieRefreshes(again, userId);
      // Two sign-ins, two sessions: each page's cookie its own.
      expect(again.cookie).not.toBe(first.cookie);
      await expectCookieRefreshes(first, userId);
    }
  });

  it("links an identity to the viewer: the viewer's new session as the cookie", async () => {
    for (let trial = 0; trial < trials; trial++) {
      const { userId, accessToken } = await client.register();
      const page = browser();
      const linked = await signInFrom(page, person("elsewhere@example.org"), accessToken);
      expectCookieDelivery(linked);
      expect(payloadOf(linked).user.id).toBe(userId);
      await expectCookieRefreshes(page, userId);
    }
  });

  it("is completed by a code for an account with MFA: no cookie before it, the cookie then", async () => {
    for (let trial = 0; trial < 3; trial++) {
      const account = await client.registerWithMfa();
      const login = person();
      expectCookieDelivery(await signInFrom(browser(), login, account.accessToken));
      const page = browser();
      const awaiting = await signInFrom(page, login);
      expectRefused(awaiting, "MFA_REQUIRED");
      const completed = await page.request(mfaDocuments.complete, {
        mfaToken: awaiting.errors![0]!.extensions!.mfaToken,
        code: await authenticatorCode(account.secret, clock),
      });
      expectCookieDelivery(completed);
      await expectCookieRefreshes(page, account.userId);
      client.nextStep();
    }
  });

  it("sets no cookie when the completion is refused: a used flow, a forged state, an address to link", async () => {
    const page = browser();
    const flow = await leaveFor(page, person());
    expectCookieDelivery(await completeFrom(page, flow));
    expectRefused(await completeFrom(browser(), flow), "INVALID_CHALLENGE");
    const forged = await leaveFor(page, person());
    const callback = new URL(forged.callbackUrl);
    callback.searchParams.set("state", "forged-state");
    expectRefused(await completeFrom(browser(), { ...forged, callbackUrl: callback.href }), "SOCIAL_LOGIN_FAILED");
    // An account already has the address, unverified: the identity must be linked while signed in.
    const { account } = await client.register();
    expectRefused(await signInFrom(browser(), person(account.email)), "ACCOUNT_LINK_REQUIRED");
  });

  it("sets one cookie when pages complete the same flow at once; the others none (10 trials × 4 pages)", async () => {
    for (let trial = 0; trial < 10; trial++) {
      const flow = await leaveFor(browser(), person());
      const pages = [0, 1, 2, 3].map(() => browser());
      const answers = await Promise.all(pages.map((page) => completeFrom(page, flow)));
      const delivered = answers.filter((answer) => answer.errors === undefined);
      expect(delivered).toHaveLength(1);
      expectCookieDelivery(delivered[0]!);
      for (const refused of answers.filter((answer) => answer.errors !== undefined)) {
        expectRefused(refused, "INVALID_CHALLENGE");
      }
      expect(pages.filter((page) => page.cookie !== undefined)).toHaveLength(1);
    }
  });

  it("is refused from a page of another origin before the flow is looked at: FORBIDDEN_ORIGIN", async () => {
    for (const origin of ["http://localhost:5174", "https://evil.example", "null"]) {
      const flow = await leaveFor(browser(), person());
      for (const transport of ["cookie", null] as const) {
        const elsewhere = new CookieClient(server().url, { origin, transport });
        // In bearer mode, the session cookie a browser would send along is what makes it one of the cookie's.
        elsewhere.cookie = "A".repeat(43);
        const refused = await completeFrom(elsewhere, flow);
        expect(refused.status, origin).toBe(403);
        expectRefused(refused, "FORBIDDEN_ORIGIN");
      }
      // The flow was not spent: the app's own page can still complete it.
      expectCookieDelivery(await completeFrom(browser(), flow));
    }
  });
});

describe("a provider sign-in in bearer mode", () => {
  it("is unchanged: the refresh token in the body, no cookie set", async () => {
    const app = new CookieClient(server().url, { transport: null });
    const signedIn = await signInFrom(app, person());
    expect(payloadOf(signedIn).refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signedIn.setCookies).toEqual([]);
  });
});
