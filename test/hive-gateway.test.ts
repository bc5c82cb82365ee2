import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createGatewayRuntime, type GatewayPlugin, type GatewayRuntime } from "@graphql-hive/gateway-runtime";
import useJWT, { createRemoteJwksSigningKeyProvider, extractFromHeader } from "@graphql-mesh/plugin-jwt-auth";
import { composeServices } from "@theguild/federation-composition";
import { parse } from "graphql";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthResult } from "../src/sessions/session-lifecycle.js";
import { reviewsSchemaPath } from "./fixtures/reviews/server.js";
import { errorCodes, graphql, mutations } from "../harness/graphql.js";
import { projectRoot } from "../harness/process.js";
import { refreshCookieName } from "../src/http/session-cookie.js";
import { CookieClient } from "./helpers/browser-client.js";
import { itServesTheSupergraph, startSubgraphs, type Subgraphs } from "./helpers/router-behaviour.js";
import { appOrigin, itKeepsBrowserSessionsThrough } from "./helpers/router-cookies.js";
import { newAccount, type TestServer } from "./helpers/server.js";

// Hive Gateway over the same two subgraphs as test/gateway.test.ts, with Hive's own JWT plugin
// checking our access tokens against our JWKS before any subgraph is called (the configuration
// README shows), and passing the token and its payload on.
let subgraphs: Subgraphs;
let users: TestServer;
let ada: AuthResult;
let grace: AuthResult;
let gateway: GatewayRuntime;
let server: Server;
let gatewayUrl: string;
/** The `extensions` of every request the reviews subgraph received. */
const reviewsSaw: Record<string, unknown>[] = [];

beforeAll(async () => {
  subgraphs = await startSubgraphs({ onReviewsRequest: (extensions) => reviewsSaw.push(extensions) });
  ({ users, ada, grace } = subgraphs);
  const composed = composeServices([
    {
      name: "users",
      url: users.url,
      typeDefs: parse(await readFile(path.join(projectRoot, "schema/users.graphql"), "utf8")),
    },
    { name: "reviews", url: subgraphs.reviews.url, typeDefs: parse(await readFile(reviewsSchemaPath, "utf8")) },
  ]);
  expect(composed.errors ?? []).toEqual([]);
  gateway = createGatewayRuntime({
    supergraph: composed.supergraphSdl!,
    logging: false,
    plugins: () => [
      // The plugin's typings name the logger class through its CommonJS build: the same class.
      useJWT({
        signingKeyProviders: [
          createRemoteJwksSigningKeyProvider({ jwksUri: `${users.baseUrl}/.well-known/jwks.json` }),
        ],
        tokenLookupLocations: [extractFromHeader({ name: "authorization", prefix: "Bearer" })],
        tokenVerification: { algorithms: ["ES256"], issuer: "users-subgraph", audience: "supergraph" },
        // Anonymous requests pass (the subgraph answers what they may see); bad tokens stop here.
        reject: { missingToken: false, invalidToken: true },
        forward: { payload: true, token: true },
      }) as GatewayPlugin,
    ],
    // The subgraph checks the token itself too (revocation is only known there). The users
    // subgraph alone gets the browser's session cookie, its page's origin and the transport, and
    // its Set-Cookie goes back to the browser.
    propagateHeaders: {
      fromClientToSubgraphs: ({ request, subgraphName }) => ({
        authorization: request.headers.get("authorization"),
        "user-agent": request.headers.get("user-agent"),
        ...(subgraphName === "users" ? browserSessionHeaders(request.headers) : {}),
      }),
      fromSubgraphsToClient: ({ response, subgraphName }) =>
        subgraphName === "users" ? { "set-cookie": response.headers.getSetCookie() } : {},
    },
    cors: { origin: [appOrigin], credentials: true, allowedHeaders: corsAllowedHeaders, methods: ["GET", "POST"] },
    csrfPrevention: { requestHeaders: ["apollo-require-preflight", "x-apollo-operation-name"] },
  });
  server = createServer(gateway);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await gateway?.dispose();
  await subgraphs?.stop();
});

/** What a browser's session needs the router to pass down to the users subgraph. */
const browserSessionHeaders = (headers: Headers) => ({
  cookie: headers.get("cookie"),
  origin: headers.get("origin"),
  "x-session-transport": headers.get("x-session-transport"),
});
const corsAllowedHeaders = [
  "content-type",
  "authorization",
  "x-session-transport",
  "apollo-require-preflight",
  "x-apollo-operation-name",
];

// Hive Gateway 2.12 maps the error of the second entity of a deduplicated `_entities` batch to
// the first review's path (["reviews", 0, …]); the data, r2's author e-mail null, is right.
itServesTheSupergraph(() => ({ url: gatewayUrl, ...subgraphs }), { exactEntityErrorPaths: false });

describe("Hive Gateway's JWT plugin with our JWKS", () => {
  it("passes a valid token and forwards it, with its payload, to the subgraphs", async () => {
    reviewsSaw.length = 0;
    const response = await graphql(
      gatewayUrl,
      "{ reviews { id author { username } } }",
      {},
      { token: ada.accessToken },
    );
    expect(response.errors).toBeUndefined();
    const forwarded = reviewsSaw.find((extensions) => extensions.jwt)?.jwt as
      | { token: unknown; payload: unknown }
      | undefined;
    expect(forwarded?.token).toEqual({ prefix: "Bearer", value: ada.accessToken });
    expect(forwarded?.payload).toMatchObject({ sub: ada.user.id, iss: "users-subgraph", aud: "supergraph" });
  });

  it("rejects tampered, expired, wrongly addressed and garbage tokens before any subgraph is called", async () => {
    const { signing } = users.signingKeys;
    const signed = (claims: { exp: number; aud: string }) =>
      new SignJWT({ sid: "some-session" })
        .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: "JWT" })
        .setSubject(ada.user.id)
        .setIssuer("users-subgraph")
        .setAudience(claims.aud)
        .setIssuedAt()
        .setExpirationTime(claims.exp)
        .sign(signing.privateKey);
    const now = Math.floor(Date.now() / 1000);
    const [header, payload, signature] = ada.accessToken.split(".");
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), sub: grace.user.id }),
    ).toString("base64url");
    const refused = {
      tampered: `${header}.${forged}.${signature}`,
      expired: await signed({ exp: now - 60, aud: "supergraph" }),
      "wrong audience": await signed({ exp: now + 600, aud: "another-graph" }),
      garbage: "not-a-jwt",
    };
    for (const [kind, token] of Object.entries(refused)) {
      reviewsSaw.length = 0;
      const { result, statements } = await subgraphs.queries.during(() =>
        graphql(gatewayUrl, "{ me { id } reviews { id } }", {}, { token }),
      );
      expect(result.data ?? null, kind).toBeNull();
      expect(result.errors?.length, kind).toBeGreaterThan(0);
      expect(statements, kind).toEqual([]);
      expect(reviewsSaw, kind).toEqual([]);
    }
  });

  it("leaves revocation to the subgraph: a well-signed token of an ended session is refused there", async () => {
    const registered = await graphql(gatewayUrl, mutations.register, { input: newAccount("hive") });
    const token = registered.data!.register.accessToken as string;
    expect((await graphql(gatewayUrl, "mutation { logout }", {}, { token })).data).toEqual({ logout: true });
    const me = await graphql(gatewayUrl, mutations.me, {}, { token });
    expect(me.data).toEqual({ me: null });
    expect(errorCodes(me)).toEqual(["UNAUTHENTICATED"]);
  });
});

describe("browser sessions through Hive Gateway", () => {
  itKeepsBrowserSessionsThrough(() => gatewayUrl);

  it("answers the app's preflight for cookie mode with credentials, and no other origin's", async () => {
    const preflight = (origin: string) =>
      fetch(gatewayUrl, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type,x-session-transport",
        },
      });
    const allowed = await preflight(appOrigin);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(appOrigin);
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
    expect(allowed.headers.get("access-control-allow-headers")).toContain("x-session-transport");
    // Yoga names the listed origin whoever asks; a browser compares it with its page's and stops.
    const other = await preflight("https://evil.example");
    expect([appOrigin, null]).toContain(other.headers.get("access-control-allow-origin"));
  });

  it("refuses what a form could post, cookie and all, before any subgraph is called", async () => {
    const page = new CookieClient(gatewayUrl, { origin: appOrigin });
    await page.request(mutations.register, { input: newAccount("form") });
    for (const [contentType, body] of [
      [
        "application/x-www-form-urlencoded",
        `query=${encodeURIComponent("mutation { refreshSession { accessToken } }")}`,
      ],
      ["text/plain", JSON.stringify({ query: "mutation { refreshSession { accessToken } }" })],
    ]) {
      const { result, statements } = await subgraphs.queries.during(() =>
        fetch(gatewayUrl, {
          method: "POST",
          headers: { "content-type": contentType!, cookie: `${refreshCookieName}=${page.cookie}`, origin: appOrigin },
          body,
        }),
      );
      expect(result.status, contentType).toBe(403);
      expect(await result.text(), contentType).toContain("Required CSRF header(s) not present");
      expect(statements, contentType).toEqual([]);
    }
  });
});
