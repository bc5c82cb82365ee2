import { createHash, randomBytes } from "node:crypto";
import fc from "fast-check";
import { expect, it } from "vitest";
import { mutations, sessionMutations } from "./helpers/graphql.js";
import { capturedLogger } from "./helpers/log.js";
import { productionSettings } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

// Property: whatever a client sends, the answer is a 4xx or a coded GraphQL error — never a 5xx,
// INTERNAL_SERVER_ERROR, a stack trace, or the password it sent; and nothing is logged as a bug.
const runs = 2_000;
const { logger, lines } = capturedLogger();
// A GitHub preset (no discovery at start), so that sign-ins can start; its addresses are never reached.
const github = { kind: "github", id: "github", name: "GitHub", clientId: "fuzz", clientSecret: "fuzz-secret", webUrl: "https://github.invalid", apiUrl: "https://api.github.invalid" };
const server = useTestServer({
  logger,
  config: { ...productionSettings, IDENTITY_PROVIDERS: JSON.stringify([github]) },
});
const redirectUri = `${productionSettings.APP_URL}/auth/callback`;

interface Case {
  method: "GET" | "POST" | "PUT";
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** The password the case sends, if any: it must not come back. */
  password?: string;
}

const nasty = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  {
    weight: 6,
    arbitrary: fc.constantFrom("\u0000", "a\u0000b", "\ud800", "x\udfffy", "\u0007\u001b[31m", "'; DROP TABLE users; --", "%00", "..%2f..%2fetc%2fpasswd", "💥".repeat(50)),
  },
  // Huge: rarer, they cost the most time to send.
  { weight: 1, arbitrary: fc.constant("x".repeat(300_000)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((text) => text.repeat(5_000)) },
);
/** Any JSON value, weighted towards the odd ones. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  nasty,
  fc.constantFrom(null, true, 0, -1, 1e308, 2 ** 53 + 1, [], {}, [[[[[]]]]]),
  fc.jsonValue({ maxDepth: 4 }),
);
// Unique, so that finding it in an answer can only mean it was echoed.
const password = fc.nat().map((n) => `pw-${n.toString(36)}-${randomBytes(6).toString("hex")}`);
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

/** Input objects: the right fields with odd values, missing ones, extra ones. */
const registerInput = fc.record(
  { email: fc.oneof(nasty, anyValue), username: fc.oneof(nasty, anyValue), password, extra: anyValue },
  { requiredKeys: ["password"] },
);
const loginInput = fc.record({ usernameOrEmail: fc.oneof(nasty, anyValue), password, extra: anyValue }, { requiredKeys: ["password"] });

const representation = fc.oneof(
  anyValue,
  fc.record({ __typename: fc.oneof(fc.constantFrom("User", "Query", "Mutation", "Session", "_Service", "AuthPayload", ""), anyValue), id: anyValue }, { requiredKeys: [] }),
);

const operations: fc.Arbitrary<{ query: string; variables?: unknown; password?: string }> = fc.oneof(
  registerInput.map((input) => ({ query: mutations.register, variables: { input }, password: input.password })),
  loginInput.map((input) => ({ query: mutations.login, variables: { input }, password: input.password })),
  fc.tuple(password, anyValue).map(([secret, currentPassword]) => ({
    query: sessionMutations.changePassword,
    variables: { currentPassword, newPassword: secret },
    password: secret,
  })),
  anyValue.map((refreshToken) => ({ query: sessionMutations.refresh, variables: { refreshToken } })),
  password.map((secret) => ({ query: "mutation($p: String!) { enrollTotp(currentPassword: $p) { secret otpauthUrl } }", variables: { p: secret }, password: secret })),
  fc.tuple(password, anyValue).map(([secret, code]) => ({
    query: "mutation($p: String!, $c: String!) { disableTotp(currentPassword: $p, code: $c) }",
    variables: { p: secret, c: code },
    password: secret,
  })),
  fc.tuple(anyValue, anyValue).map(([code, mfaToken]) => ({
    query: "mutation($c: String!, $t: String!) { completeLogin(code: $c, mfaToken: $t) { accessToken } }",
    variables: { c: code, t: mfaToken },
  })),
  fc.tuple(password, anyValue).map(([secret, token]) => ({
    query: "mutation($p: String!, $t: String!) { resetPassword(newPassword: $p, token: $t) }",
    variables: { p: secret, t: token },
    password: secret,
  })),
  fc.tuple(password, anyValue).map(([secret, newEmail]) => ({
    query: "mutation($p: String!, $e: String!) { changeEmail(currentPassword: $p, newEmail: $e) }",
    variables: { p: secret, e: newEmail },
    password: secret,
  })),
  password.map((secret) => ({ query: "mutation($p: String!) { deleteAccount(currentPassword: $p) }", variables: { p: secret }, password: secret })),
  fc.tuple(fc.constantFrom("verifyEmail(token: $v)", "requestPasswordReset(email: $v)", "changeUsername(newUsername: $v) { id }"), anyValue).map(([field, value]) => ({
    query: `mutation($v: String!) { ${field} }`,
    variables: { v: value },
  })),
  fc.constant({ query: "mutation { requestEmailVerification }" }),
  fc.tuple(anyValue, anyValue, anyValue).map(([first, after, text]) => ({
    query: "query($f: Int, $a: String, $q: String, $u: ID!) { users(first: $f, after: $a, query: $q) { edges { cursor } } securityEvents(first: $f, after: $a) { edges { cursor } } userSecurityEvents(userId: $u, first: $f, after: $a) { edges { cursor } } }",
    variables: { f: first, a: after, q: text, u: text },
  })),
  fc.tuple(anyValue, anyValue).map(([id, value]) => ({
    query: "mutation($id: ID!, $v: String, $r: [String!]!) { lockUser(id: $id, reason: $v) { id } unlockUser(id: $id) { id } setUserRoles(id: $id, roles: $r) { id } revokeUserSessions(id: $id) }",
    variables: { id, v: value, r: value },
  })),
  fc.tuple(fc.constantFrom("confirmTotp", "regenerateRecoveryCodes"), anyValue).map(([field, code]) => ({
    query: `mutation($c: String!) { ${field}(code: $c) }`,
    variables: { c: code },
  })),
  anyValue.map((id) => ({ query: sessionMutations.revokeSession, variables: { id } })),
  fc.tuple(fc.oneof(fc.constant("github"), anyValue), fc.oneof(fc.constant(redirectUri), anyValue)).map(([provider, uri]) => ({
    query: "mutation($p: ID!, $r: String!) { startSocialLogin(provider: $p, redirectUri: $r) { authorizationUrl flowId } linkIdentity(provider: $p, redirectUri: $r) { flowId } }",
    variables: { p: provider, r: uri },
  })),
  fc.tuple(anyValue, fc.oneof(anyValue, nasty.map((query) => `${redirectUri}?${query}`))).map(([flowId, callbackUrl]) => ({
    query: "mutation($f: ID!, $c: String!) { completeSocialLogin(flowId: $f, callbackUrl: $c) { accessToken user { id hasPassword identities { id } } } }",
    variables: { f: flowId, c: callbackUrl },
  })),
  anyValue.map((id) => ({ query: "mutation($id: ID!) { unlinkIdentity(id: $id) }", variables: { id } })),
  anyValue.map((id) => ({ query: "query($id: ID!) { user(id: $id) { id username email createdAt } }", variables: { id } })),
  fc.array(representation, { maxLength: 30 }).map((representations) => ({
    query: "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on User { id username email } } }",
    variables: { r: representations },
  })),
  fc.oneof(anyValue, fc.array(representation, { maxLength: 5 })).map((r) => ({ query: "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }", variables: r })),
  fc.constantFrom(
    mutations.me,
    sessionMutations.sessions,
    sessionMutations.logout,
    sessionMutations.logoutAll,
    "{ _service { sdl } }",
    "{ identityProviders { id name } }",
    "{ me { id hasPassword identities { id provider email linkedAt } } }",
    "subscription { me { id } }",
    "subscription S { _service { sdl } }",
    "{ __schema { types { name } } }",
    "{ _entities(representations: [{}, 1, \"x\", null]) { __typename } }",
    "mutation { revokeSession(id: \"\\u0000\") }",
    "{ me { id } } { me { id } }",
    "query A { me { id } } query B { me { id } }",
    "fragment F on User { ...F } { me { ...F } }",
    "{ me { id @include(if: $undefined) } }",
    "{ mee { id } }",
    "",
  ).map((query) => ({ query })),
  nasty.map((query) => ({ query })),
  fc.tuple(nasty, anyValue).map(([query, variables]) => ({ query, variables })),
);

const persistedQuery = fc.record(
  { version: anyValue, sha256Hash: fc.oneof(anyValue, fc.constant(createHash("sha256").update("{ __typename }").digest("hex"))) },
  { requiredKeys: [] },
);

const graphqlPost: fc.Arbitrary<Case> = fc
  .tuple(
    operations,
    maybe(fc.oneof(fc.record({ persistedQuery }), anyValue)),
    maybe(anyValue),
    fc.constantFrom("application/json", "application/json; charset=utf-8", "application/graphql-response+json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""),
    maybe(fc.oneof(nasty, fc.constant("Bearer "), nasty.map((token) => `Bearer ${token}`))),
  )
  .map(([operation, extensions, operationName, contentType, authorization]) => ({
    method: "POST",
    path: "/graphql",
    headers: {
      ...(contentType ? { "content-type": contentType } : {}),
      ...(authorization ? { authorization: authorization.replace(/[^\t\x20-\x7e]/g, "?") } : {}),
      "apollo-require-preflight": "true",
    },
    body: JSON.stringify({ ...operation, password: undefined, extensions, operationName }),
    password: operation.password,
  }));

const malformed: fc.Arbitrary<Case> = fc
  .tuple(fc.oneof(nasty, fc.constantFrom("{", "[1,2", '{"query":', "null", "[]", '[{"query":"{ __typename }"}]', '{"query": 5}', '{"variables": "x"}', "\u0000")), fc.constantFrom("application/json", "text/plain"))
  .map(([body, contentType]) => ({ method: "POST", path: "/graphql", headers: { "content-type": contentType }, body }));

const otherRoutes: fc.Arbitrary<Case> = fc
  .tuple(
    fc.constantFrom("GET", "POST", "PUT") as fc.Arbitrary<Case["method"]>,
    fc.oneof(
      fc.constantFrom("/graphql", "/health/live", "/health/ready", "/metrics", "/.well-known/jwks.json", "/", "/graphql/", "//graphql", "/%00", "/graphql?query=%00"),
      nasty.map((query) => `/graphql?query=${percentEncoded(query)}&variables=${percentEncoded(query)}`),
      fc.webPath(),
    ),
    maybe(nasty),
  )
  .map(([method, path, body]) => ({ method, path, headers: { "apollo-require-preflight": "true" }, body: method === "GET" ? undefined : body }));

/** Every UTF-8 byte of the text, %-encoded (a lone surrogate as U+FFFD, as a client would send it). */
const percentEncoded = (text: string) => [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");

const stackTrace = /\bat [\w.<>]+ \(|\.(?:js|ts):\d+:\d+|stacktrace/i;

it(`answers ${runs} generated bad requests with 4xx or coded errors: no 5xx, no stack, no password`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof({ weight: 6, arbitrary: graphqlPost }, { weight: 2, arbitrary: malformed }, { weight: 2, arbitrary: otherRoutes }), async (sent) => {
      const response = await fetch(`${server().baseUrl}${sent.path}`, { method: sent.method, headers: sent.headers, body: sent.body });
      const text = await response.text();
      expect(response.status, text.slice(0, 300)).toBeLessThan(500);
      expect(text).not.toContain("INTERNAL_SERVER_ERROR");
      expect(text).not.toMatch(stackTrace);
      if (sent.password) expect(text).not.toContain(sent.password);
      if (response.headers.get("content-type")?.includes("json") && text.includes('"errors"')) {
        for (const error of JSON.parse(text).errors) expect(error.extensions?.code, text.slice(0, 300)).toMatch(/^[A-Z_]+$/);
      }
    }),
    { numRuns: runs },
  );
  expect(lines.filter((line) => /unexpected error|request failed|unhandled/.test(line))).toEqual([]);
}, 300_000);
