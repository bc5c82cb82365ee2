import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { refreshCookieName } from "../src/http/session-cookie.js";
import {
  CookieClient,
  type CookieResponse,
  expectCleared,
  expectCookieDelivery as expectDelivery,
  payloadOf,
} from "./helpers/browser-client.js";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, mutations, sessionMutations } from "../harness/graphql.js";
import { authenticatorCode, mfaDocuments } from "./helpers/mfa.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

const appOrigin = "http://localhost:3000";
const clock = new ManualClock();
const server = useTestServer({ clock, config: { REFRESH_TOKEN_TTL: "7d" } });
const weekSeconds = 7 * 86400;

const documents = {
  refresh: `mutation { refreshSession { accessToken refreshToken refreshTokenExpiresAt user { id } } }`,
  deleteAccount: `mutation Delete($currentPassword: String!) { deleteAccount(currentPassword: $currentPassword) }`,
};

/** A page of the app: cookie mode, the app's origin. */
const browser = (userAgent = "browser/1") => new CookieClient(server().url, { origin: appOrigin, userAgent });

/** An answer in cookie mode, the cookie living as long as the refresh token. */
const expectCookieDelivery = (response: CookieResponse) => expectDelivery(response, weekSeconds);

async function register(client: CookieClient) {
  const account = newAccount("cookie");
  const response = await client.request(mutations.register, { input: account });
  expectCookieDelivery(response);
  return { account, ...payloadOf(response) };
}

describe("cookie mode", () => {
  it("delivers the refresh token of register, login and changePassword only as the cookie", async () => {
    const client = browser();
    const { account, accessToken } = await register(client);
    const login = await client.request(mutations.login, {
      input: { usernameOrEmail: account.username, password: account.password },
    });
    expectCookieDelivery(login);
    const changed = await client.request(
      sessionMutations.changePassword,
      { currentPassword: account.password, newPassword: `${account.password} again` },
      { token: payloadOf(login).accessToken },
    );
    expectCookieDelivery(changed);
    // changePassword ended the other sessions; the cookie it set starts the new one.
    expect(errorCodes(await client.request(mutations.me, {}, { token: accessToken }))).toEqual(["UNAUTHENTICATED"]);
    expectCookieDelivery(await client.request(documents.refresh));
  });

  it("delivers completeLogin's refresh token as the cookie, and none before the second factor", async () => {
    const client = browser();
    const { account, accessToken } = await register(client);
    const { secret } = (
      await client.request(mfaDocuments.enroll, { currentPassword: account.password }, { token: accessToken })
    ).data!.enrollTotp;
    expect(
      (
        await client.request(
          mfaDocuments.confirm,
          { code: await authenticatorCode(secret, clock) },
          { token: accessToken },
        )
      ).errors,
    ).toBeUndefined();
    clock.advance(30);
    const login = await client.request(mutations.login, {
      input: { usernameOrEmail: account.username, password: account.password },
    });
    expect(errorCodes(login)).toEqual(["MFA_REQUIRED"]);
    expect(login.setCookies).toEqual([]);
    const completed = await client.request(mfaDocuments.complete, {
      mfaToken: login.errors![0]!.extensions!.mfaToken,
      code: await authenticatorCode(secret, clock),
    });
    expectCookieDelivery(completed);
  });

  it("refreshes from the cookie without an argument, rotating it; the access token works", async () => {
    const client = browser();
    const { user } = await register(client);
    let previous = client.cookie;
    for (let round = 0; round < 5; round++) {
      const refreshed = await client.request(documents.refresh);
      const next = expectCookieDelivery(refreshed);
      expect(next).not.toBe(previous);
      previous = next;
      const me = await client.request(mutations.me, {}, { token: payloadOf(refreshed).accessToken });
      expect(me.data!.me.id).toBe(user.id);
    }
  });

  it("answers tabs refreshing the same cookie at once with the same next cookie", async () => {
    for (let trial = 0; trial < 10; trial++) {
      const client = browser();
      await register(client);
      const tabs = [0, 1, 2].map(() => Object.assign(browser(), { cookie: client.cookie }));
      const answers = await Promise.all(tabs.map((tab) => tab.request(documents.refresh)));
      const cookies = answers.map(expectCookieDelivery);
      expect(new Set(cookies).size).toBe(1);
    }
  });

  it("takes an explicit refresh token too, and then sets the cookie (moving a stored token into it)", async () => {
    const bearer = new CookieClient(server().url, { transport: null });
    const registered = await bearer.request(mutations.register, { input: newAccount("moving") });
    const { refreshToken } = payloadOf(registered);
    expect(refreshToken).toEqual(expect.any(String));
    const client = browser();
    expectCookieDelivery(await client.request(sessionMutations.refresh, { refreshToken }));
    expectCookieDelivery(await client.request(documents.refresh));
  });

  it("answers INVALID_REFRESH_TOKEN without a cookie, or with one that holds no token of ours, and clears it", async () => {
    const client = browser();
    const without = await client.request(documents.refresh);
    expect(errorCodes(without)).toEqual(["INVALID_REFRESH_TOKEN"]);
    expectCleared(without);
    for (const value of ["", "x".repeat(43), "a b", "%00", "x".repeat(4000)]) {
      const garbage = await client.request(
        documents.refresh,
        {},
        { headers: { cookie: `${refreshCookieName}=${value}` } },
      );
      expect(errorCodes(garbage), value).toEqual(["INVALID_REFRESH_TOKEN"]);
      expectCleared(garbage);
    }
  });
});

describe("the cookie ends with the session", () => {
  it("logout clears it, and its value replayed afterwards is refused", async () => {
    const client = browser();
    const { accessToken } = await register(client);
    const stolen = client.cookie!;
    const logout = await client.request(sessionMutations.logout, {}, { token: accessToken });
    expect(logout.data).toEqual({ logout: true });
    expectCleared(logout);
    expect(client.cookie).toBeUndefined();
    const replayed = await Object.assign(browser("thief/1"), { cookie: stolen }).request(documents.refresh);
    expect(errorCodes(replayed)).toEqual(["INVALID_REFRESH_TOKEN"]);
    expect(replayed.refreshCookie?.maxAge).toBe(0);
  });

  it("logoutAll and deleteAccount clear it", async () => {
    const client = browser();
    const { accessToken } = await register(client);
    expectCleared(await client.request(sessionMutations.logoutAll, {}, { token: accessToken }));
    const other = browser();
    const registered = await register(other);
    const deleted = await other.request(
      documents.deleteAccount,
      { currentPassword: registered.account.password },
      { token: registered.accessToken },
    );
    expect(deleted.data).toEqual({ deleteAccount: true });
    expectCleared(deleted);
  });

  it("revokeSession clears it for the current session only", async () => {
    const client = browser();
    const { account, accessToken } = await register(client);
    const elsewhere = browser("phone/1");
    await elsewhere.request(mutations.login, {
      input: { usernameOrEmail: account.username, password: account.password },
    });
    const sessions = (await client.request(sessionMutations.sessions, {}, { token: accessToken })).data!.sessions as {
      id: string;
      current: boolean;
    }[];
    const other = await client.request(
      sessionMutations.revokeSession,
      { id: sessions.find((s) => !s.current)!.id },
      { token: accessToken },
    );
    expect(other.data).toEqual({ revokeSession: true });
    expect(other.setCookies).toEqual([]);
    const current = await client.request(
      sessionMutations.revokeSession,
      { id: sessions.find((s) => s.current)!.id },
      { token: accessToken },
    );
    expect(current.data).toEqual({ revokeSession: true });
    expectCleared(current);
  });

  it("a rotated cookie replayed by another client is REFRESH_TOKEN_REUSED: the session ends and both cookies are cleared", async () => {
    for (let trial = 0; trial < 10; trial++) {
      const victim = browser();
      await register(victim);
      const stolen = victim.cookie!;
      expectCookieDelivery(await victim.request(documents.refresh));
      const thief = Object.assign(browser("thief/1"), { cookie: stolen });
      const replayed = await thief.request(documents.refresh);
      expect(errorCodes(replayed)).toEqual(["REFRESH_TOKEN_REUSED"]);
      expectCleared(replayed);
      const afterwards = await victim.request(documents.refresh);
      expect(errorCodes(afterwards)).toEqual(["INVALID_REFRESH_TOKEN"]);
      expectCleared(afterwards);
    }
  });
});

describe("a stolen cookie", () => {
  it("replayed by many clients at once after the owner's refresh, never refreshes, and ends the session (10 trials × 8 thieves)", async () => {
    for (let trial = 0; trial < 10; trial++) {
      const owner = browser();
      await register(owner);
      const stolen = owner.cookie!;
      expectCookieDelivery(await owner.request(documents.refresh));
      const thieves = Array.from({ length: 8 }, (_, index) =>
        Object.assign(browser(`thief/${index}`), { cookie: stolen }),
      );
      const answers = await Promise.all(thieves.map((thief) => thief.request(documents.refresh)));
      for (const answer of answers) {
        expect(answer.data ?? null).toBeNull();
        expect(["REFRESH_TOKEN_REUSED", "INVALID_REFRESH_TOKEN"]).toContain(errorCodes(answer)[0]);
        expectCleared(answer);
      }
      expect(answers.filter((answer) => errorCodes(answer)[0] === "REFRESH_TOKEN_REUSED").length).toBeGreaterThan(0);
      expect(errorCodes(await owner.request(documents.refresh))).toEqual(["INVALID_REFRESH_TOKEN"]);
    }
  });

  it("used by the thief first makes the owner's next refresh REFRESH_TOKEN_REUSED: both are signed out", async () => {
    const owner = browser();
    await register(owner);
    const thief = Object.assign(browser("thief/1"), { cookie: owner.cookie });
    expectCookieDelivery(await thief.request(documents.refresh));
    expect(errorCodes(await owner.request(documents.refresh))).toEqual(["REFRESH_TOKEN_REUSED"]);
    expect(errorCodes(await thief.request(documents.refresh))).toEqual(["INVALID_REFRESH_TOKEN"]);
  });

  it("races a logout: whatever wins, nothing refreshes afterwards (20 trials)", async () => {
    for (let trial = 0; trial < 20; trial++) {
      const owner = browser();
      const { accessToken } = await register(owner);
      const thief = Object.assign(browser("thief/1"), { cookie: owner.cookie });
      const [, stolenRefresh] = await Promise.all([
        owner.request(sessionMutations.logout, {}, { token: accessToken }),
        thief.request(documents.refresh),
      ]);
      // The thief may have rotated just before the session ended; the token it got is dead all the same.
      expect(["INVALID_REFRESH_TOKEN", undefined]).toContain(errorCodes(stolenRefresh)[0]);
      const again = await thief.request(documents.refresh);
      expect(errorCodes(again)).toEqual(["INVALID_REFRESH_TOKEN"]);
    }
  });
});

describe("bearer mode", () => {
  it("is unchanged without the header: the token in the body, no cookie set, and the cookie never read", async () => {
    const client = new CookieClient(server().url, { transport: null, origin: appOrigin });
    const registered = await client.request(mutations.register, { input: newAccount("bearer") });
    expect(payloadOf(registered).refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(registered.setCookies).toEqual([]);
    // A cookie a browser holds is no argument: its token must never reach a body script can read.
    const cookieHolder = browser();
    await register(cookieHolder);
    const noArgument = await client.request(
      documents.refresh,
      {},
      { headers: { cookie: `${refreshCookieName}=${cookieHolder.cookie}` } },
    );
    expect(errorCodes(noArgument)).toEqual(["BAD_USER_INPUT"]);
    expect(noArgument.errors![0]!.extensions!.field).toBe("refreshToken");
    expect(noArgument.text).not.toContain(cookieHolder.cookie);
    const explicit = await client.request(sessionMutations.refresh, {
      refreshToken: payloadOf(registered).refreshToken,
    });
    expect(payloadOf(explicit).refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(explicit.setCookies).toEqual([]);
  });

  it("takes `bearer` as the header's value, and refuses any other with 400 BAD_REQUEST before running anything", async () => {
    const bearer = new CookieClient(server().url, { transport: "bearer" });
    expect(payloadOf(await bearer.request(mutations.register, { input: newAccount("named") })).refreshToken).toEqual(
      expect.any(String),
    );
    for (const value of ["cookies", "", "cookie, cookie", "Bearer token"]) {
      const account = newAccount("odd");
      const odd = await new CookieClient(server().url, { transport: "bearer" }).request(
        mutations.register,
        { input: account },
        { headers: { "x-session-transport": value } },
      );
      if (value === "") {
        expect(odd.errors, "an empty header is no header").toBeUndefined();
        continue;
      }
      expect(odd.status, value).toBe(400);
      expect(errorCodes(odd), value).toEqual(["BAD_REQUEST"]);
      const taken = await bearer.request(mutations.login, {
        input: { usernameOrEmail: account.username, password: account.password },
      });
      expect(errorCodes(taken), "nothing was registered").toEqual(["INVALID_CREDENTIALS"]);
    }
  });
});

it("answers any Cookie header without a server error, and never refreshes from one it did not set (200 runs)", async () => {
  const cookieText = fc.stringMatching(/^[\x20-\x7e]{0,200}$/);
  await fc.assert(
    fc.asyncProperty(cookieText, fc.constantFrom("cookie", "bearer"), async (cookie, transport) => {
      const client = new CookieClient(server().url, { origin: appOrigin, transport });
      const response = await client.request(
        documents.refresh,
        {},
        { headers: { cookie: `${cookie}; ${refreshCookieName}=${cookie.replace(/[;=\s]/g, "")}` } },
      );
      expect(response.status).toBeLessThan(500);
      expect(response.data ?? null).toBeNull();
      expect(errorCodes(response)).toEqual([transport === "cookie" ? "INVALID_REFRESH_TOKEN" : "BAD_USER_INPUT"]);
    }),
    { numRuns: 200 },
  );
});
