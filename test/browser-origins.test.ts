import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { refreshCookieName } from "../src/http/session-cookie.js";
import { CookieClient } from "./helpers/browser-client.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

const appOrigin = "https://app.example.com";
const server = useTestServer({
  config: { APP_URL: "https://app.example.com/pages", CORS_ORIGINS: `${appOrigin}, http://localhost:5173` },
});
const refresh = `mutation { refreshSession { accessToken refreshToken } }`;

/** An OPTIONS request as a browser sends it before a credentialed cookie-mode POST. */
function preflight(origin: string) {
  return fetch(server().url, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,x-session-transport,authorization",
    },
  });
}

/** A signed-in app page's cookie. */
async function signedInCookie(): Promise<{ cookie: string; account: ReturnType<typeof newAccount> }> {
  const app = new CookieClient(server().url, { origin: appOrigin });
  const account = newAccount("origin");
  await app.request(mutations.register, { input: account });
  return { cookie: app.cookie!, account };
}

describe("CORS", () => {
  it("answers a listed origin's preflight with permission for credentials and the cookie-mode header", async () => {
    for (const origin of [appOrigin, "http://localhost:5173"]) {
      const response = await preflight(origin);
      expect(response.status).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBe(origin);
      expect(response.headers.get("access-control-allow-credentials")).toBe("true");
      expect(response.headers.get("access-control-allow-methods")).toBe("GET, POST");
      const allowed = response.headers.get("access-control-allow-headers")!.split(", ");
      expect(allowed).toEqual(
        expect.arrayContaining([
          "content-type",
          "authorization",
          "x-session-transport",
          "apollo-require-preflight",
          "x-apollo-operation-name",
        ]),
      );
      expect(response.headers.get("vary")).toBe("origin");
    }
  });

  it("gives any other origin's preflight no permission", async () => {
    for (const origin of [
      "https://evil.example",
      "http://localhost:5174",
      "https://app.example.com.evil.example",
      "null",
      "HTTPS://APP.EXAMPLE.COM",
    ]) {
      const response = await preflight(origin);
      expect(response.status, origin).toBe(204);
      expect(response.headers.get("access-control-allow-origin"), origin).toBeNull();
      expect(response.headers.get("access-control-allow-credentials"), origin).toBeNull();
    }
  });

  it("lets only a listed origin's pages read answers", async () => {
    const listed = await new CookieClient(server().url, { origin: appOrigin, transport: null }).request(mutations.me);
    expect(listed.headers.get("access-control-allow-origin")).toBe(appOrigin);
    expect(listed.headers.get("access-control-allow-credentials")).toBe("true");
    const other = await new CookieClient(server().url, { origin: "https://evil.example", transport: null }).request(
      mutations.me,
    );
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    expect(other.headers.get("access-control-allow-credentials")).toBeNull();
    expect(other.data).toEqual({ me: null });
  });
});

describe("cookie-bearing requests from other origins", () => {
  const others = [
    "https://evil.example",
    "http://localhost:5174",
    "null",
    "https://app.example.com:8443",
    "http://app.example.com",
  ];

  it("are refused with 403 FORBIDDEN_ORIGIN, whether they carry the cookie, ask for cookie mode, or both", async () => {
    const { cookie } = await signedInCookie();
    for (const origin of others) {
      const variants = [
        new CookieClient(server().url, { origin, transport: "cookie" }),
        Object.assign(new CookieClient(server().url, { origin, transport: null }), { cookie }),
        Object.assign(new CookieClient(server().url, { origin, transport: "cookie" }), { cookie }),
      ];
      for (const client of variants) {
        const response = await client.request(refresh);
        expect(response.status, origin).toBe(403);
        expect(errorCodes(response), origin).toEqual(["FORBIDDEN_ORIGIN"]);
        expect(response.setCookies).toEqual([]);
        expect(response.headers.get("access-control-allow-origin")).toBeNull();
      }
    }
    // Nothing ran: the cookie still refreshes once, from the app.
    const app = Object.assign(new CookieClient(server().url, { origin: appOrigin }), { cookie });
    expect((await app.request(refresh)).errors).toBeUndefined();
  });

  it("are refused before anything runs: no login, no account", async () => {
    const { account } = await signedInCookie();
    const attacker = new CookieClient(server().url, { origin: "https://evil.example" });
    const login = await attacker.request(mutations.login, {
      input: { usernameOrEmail: account.username, password: account.password },
    });
    expect(errorCodes(login)).toEqual(["FORBIDDEN_ORIGIN"]);
    const fresh = newAccount("refused");
    expect(errorCodes(await attacker.request(mutations.register, { input: fresh }))).toEqual(["FORBIDDEN_ORIGIN"]);
    const bearer = new CookieClient(server().url, { transport: null });
    expect(
      errorCodes(
        await bearer.request(mutations.login, { input: { usernameOrEmail: fresh.username, password: fresh.password } }),
      ),
    ).toEqual(["INVALID_CREDENTIALS"]);
  });

  it("count a cookie whatever its value, even one that could be no token", async () => {
    for (const value of ["", "x", "not a token;", "%00"]) {
      const response = await new CookieClient(server().url, {
        origin: "https://evil.example",
        transport: null,
      }).request(
        mutations.me,
        {},
        {
          headers: { cookie: `theme=dark; ${refreshCookieName}=${value}` },
        },
      );
      expect(errorCodes(response), value).toEqual(["FORBIDDEN_ORIGIN"]);
    }
  });

  it("are refused for every Origin but a listed one, however close (300 generated origins)", async () => {
    const { cookie } = await signedInCookie();
    const nearMisses = fc.oneof(
      fc.webUrl().map((url) => new URL(url).origin),
      fc.constantFrom(appOrigin, "http://localhost:5173").chain((listed) =>
        fc.oneof(
          fc.constant(listed.toUpperCase()),
          fc.constant(`${listed}/`),
          fc.constant(`${listed}, https://evil.example`),
          fc.stringMatching(/^[a-z0-9.-]{1,12}$/).map((suffix) => `${listed}.${suffix}`),
          fc.integer({ min: 1, max: 65535 }).map((port) => `${listed.replace(/:\d+$/, "")}:${port}`),
        ),
      ),
    );
    await fc.assert(
      fc.asyncProperty(nearMisses, async (origin) => {
        const listed = origin === appOrigin || origin === "http://localhost:5173";
        const response = await Object.assign(new CookieClient(server().url, { origin, transport: null }), {
          cookie,
        }).request(mutations.me);
        expect(response.status, origin).toBe(listed ? 200 : 403);
        expect(errorCodes(response), origin).toEqual(listed ? ["UNAUTHENTICATED"] : ["FORBIDDEN_ORIGIN"]);
      }),
      { numRuns: 300 },
    );
  });

  it("are served as before when they carry neither cookie nor cookie mode (bearer clients), or no Origin (no browser page)", async () => {
    const account = newAccount("bearer");
    const other = await new CookieClient(server().url, { origin: "https://evil.example", transport: null }).request(
      mutations.register,
      { input: account },
    );
    expect(other.errors).toBeUndefined();
    expect(other.data!.register.refreshToken).toEqual(expect.any(String));
    const { cookie } = await signedInCookie();
    const noOrigin = await Object.assign(new CookieClient(server().url), { cookie }).request(refresh);
    expect(noOrigin.errors).toBeUndefined();
  });
});

describe("CSRF", () => {
  // What a page of any origin can make a browser send without a preflight: a form, or fetch's no-cors mode.
  const formBodies: [string, string][] = [
    ["application/x-www-form-urlencoded", `query=${encodeURIComponent(refresh)}`],
    ["text/plain", JSON.stringify({ query: refresh })],
    [
      "multipart/form-data; boundary=x",
      `--x\r\ncontent-disposition: form-data; name="query"\r\n\r\n${refresh}\r\n--x--\r\n`,
    ],
  ];

  it("refuses a form-like POST carrying the cookie without Apollo's CSRF header, even from the app's origin", async () => {
    const { cookie } = await signedInCookie();
    for (const origin of [appOrigin, undefined]) {
      for (const [contentType, body] of formBodies) {
        const response = await fetch(server().url, {
          method: "POST",
          headers: {
            "content-type": contentType,
            cookie: `${refreshCookieName}=${cookie}`,
            ...(origin ? { origin } : {}),
          },
          body,
        });
        expect(response.status, contentType).toBe(400);
        expect(await response.text(), contentType).toMatch(/CSRF|preflight/i);
        expect(response.headers.getSetCookie()).toEqual([]);
      }
    }
    const app = Object.assign(new CookieClient(server().url, { origin: appOrigin }), { cookie });
    expect((await app.request(refresh)).errors, "the cookie was never rotated").toBeUndefined();
  });

  it("refuses the same form POST from another origin as FORBIDDEN_ORIGIN first", async () => {
    const { cookie } = await signedInCookie();
    for (const [contentType, body] of formBodies) {
      const response = await fetch(server().url, {
        method: "POST",
        headers: {
          "content-type": contentType,
          cookie: `${refreshCookieName}=${cookie}`,
          origin: "https://evil.example",
        },
        body,
      });
      expect(response.status, contentType).toBe(403);
      expect(
        ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code,
      ).toBe("FORBIDDEN_ORIGIN");
    }
  });

  it("refuses mutations over GET, cookie or not", async () => {
    const { cookie } = await signedInCookie();
    const url = `${server().url}?query=${encodeURIComponent(refresh)}`;
    const response = await fetch(url, {
      headers: {
        cookie: `${refreshCookieName}=${cookie}`,
        "x-session-transport": "cookie",
        "apollo-require-preflight": "1",
        origin: appOrigin,
      },
    });
    expect(response.status).toBe(405);
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});
