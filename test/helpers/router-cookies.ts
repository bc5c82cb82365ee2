import { expect, it } from "vitest";
import { refreshCookieName } from "../../src/http/session-cookie.js";
import { CookieClient, expectCookieDelivery } from "./browser-client.js";
import { errorCodes, mutations, sessionMutations } from "../../harness/graphql.js";
import { newAccount } from "../../harness/accounts.js";

/** The users subgraph's default CORS_ORIGINS: APP_URL's origin. */
export const appOrigin = "http://localhost:3000";

const refresh = `mutation { refreshSession { accessToken refreshToken user { id } } }`;

/**
 * Cookie mode through a router: it passes `Cookie`, `Origin` and `X-Session-Transport` down to the
 * users subgraph and its `Set-Cookie` back up, so the browser's session works as against the subgraph.
 */
export function itKeepsBrowserSessionsThrough(routerUrl: () => string): void {
  it("passes cookie mode through: sign-in sets the cookie at the router's answer, refresh reads it, logout clears it", async () => {
    const page = new CookieClient(routerUrl(), { origin: appOrigin });
    const account = newAccount("routed");
    expectCookieDelivery(await page.request(mutations.register, { input: account }));
    const login = await page.request(mutations.login, {
      input: { usernameOrEmail: account.username, password: account.password },
    });
    expectCookieDelivery(login);
    const issued = page.cookie!;
    const refreshed = await page.request(refresh);
    expectCookieDelivery(refreshed);
    expect(page.cookie).not.toBe(issued);
    const { accessToken } = refreshed.data!.refreshSession;
    expect((await page.request(mutations.me, {}, { token: accessToken })).data!.me.username).toBe(account.username);

    const logout = await page.request(sessionMutations.logout, {}, { token: accessToken });
    expect(logout.data).toEqual({ logout: true });
    expect(logout.refreshCookie).toEqual({
      value: "",
      attributes: ["HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=0"],
      maxAge: 0,
    });
    expect(page.cookie).toBeUndefined();
  });

  it("passes the page's Origin through: another origin's cookie-bearing request is refused, nothing rotated", async () => {
    const page = new CookieClient(routerUrl(), { origin: appOrigin });
    expectCookieDelivery(await page.request(mutations.register, { input: newAccount("routed-origin") }));
    for (const origin of ["https://evil.example", "http://localhost:3001"]) {
      const attacker = Object.assign(new CookieClient(routerUrl(), { origin }), { cookie: page.cookie });
      const refused = await attacker.request(refresh);
      expect(refused.data?.refreshSession ?? null, origin).toBeNull();
      expect(JSON.stringify(refused.errors), origin).toContain("FORBIDDEN_ORIGIN");
      expect(
        refused.setCookies.filter((cookie) => cookie.startsWith(refreshCookieName)),
        origin,
      ).toEqual([]);
    }
    expectCookieDelivery(await page.request(refresh));
  });

  it("passes a stolen, rotated cookie through to reuse detection: the session ends and the cookie is cleared", async () => {
    const page = new CookieClient(routerUrl(), { origin: appOrigin, userAgent: "browser/1" });
    expectCookieDelivery(await page.request(mutations.register, { input: newAccount("routed-reuse") }));
    const stolen = page.cookie;
    expectCookieDelivery(await page.request(refresh));
    const thief = Object.assign(new CookieClient(routerUrl(), { origin: appOrigin, userAgent: "thief/1" }), {
      cookie: stolen,
    });
    const replayed = await thief.request(refresh);
    expect(errorCodes(replayed)).toEqual(["REFRESH_TOKEN_REUSED"]);
    expect(replayed.refreshCookie?.maxAge).toBe(0);
    expect(errorCodes(await page.request(refresh))).toEqual(["INVALID_REFRESH_TOKEN"]);
  });
}
