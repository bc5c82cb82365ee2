import { createHash, randomBytes } from "node:crypto";
import fc from "fast-check";
import { beforeAll, expect, it } from "vitest";
import { mutations, sessionMutations } from "../harness/graphql.js";
import { admin, signUp, signUpAdmin, type SignedUp } from "./helpers/accounts.js";
import { fragmentDocuments, listRequests, type ListRequest } from "./helpers/fuzz-requests.js";
import { capturedLogger } from "./helpers/log.js";
import {
  beginLogin,
  beginRegistration,
  passkeyDocuments,
  passkeySettings,
  registerPasskey,
  TestAuthenticator,
} from "./helpers/passkeys.js";
import { productionSettings } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

// Property: whatever a client sends, the answer is a 4xx or a coded GraphQL error — never a 5xx,
// INTERNAL_SERVER_ERROR, a stack trace, or the password it sent; and nothing is logged as a bug.
const runs = 2_000;
const { logger, lines } = capturedLogger();
// A GitHub preset (no discovery at start), so that sign-ins can start; its addresses are never reached.
const github = {
  kind: "github",
  id: "github",
  name: "GitHub",
  clientId: "fuzz",
  clientSecret: "fuzz-secret",
  webUrl: "https://github.invalid",
  apiUrl: "https://api.github.invalid",
};
const server = useTestServer({
  logger,
  // The passkey answers below are made for a live challenge, by a session that stays recent.
  config: {
    ...productionSettings,
    ...passkeySettings,
    ACCESS_TOKEN_TTL: "1h",
    REAUTHENTICATION_WINDOW: "1h",
    IDENTITY_PROVIDERS: JSON.stringify([github]),
  },
});
/** Whose passkey answers sign-in challenges, and who registers one passkey after another. */
let signingIn: { user: SignedUp; authenticator: TestAuthenticator };
let registering: SignedUp;
beforeAll(async () => {
  signingIn = { user: await signUp(server(), "fuzzlogin"), authenticator: new TestAuthenticator() };
  await registerPasskey(server(), signingIn.user.accessToken, signingIn.authenticator);
  registering = await signUp(server(), "fuzzregister");
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

/** A passkey answer to a live challenge, made by the authenticator, then altered. */
interface PasskeyAnswer {
  ceremony: "login" | "registration";
  /** The member replaced (the whole answer for an empty path; a member of the decoded client data under `clientData`), or whose bytes get one bit flipped. */
  path: string[];
  value: unknown;
  flip: boolean;
}

const nasty = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      "\u0000",
      "a\u0000b",
      "\ud800",
      "x\udfffy",
      "\u0007\u001b[31m",
      "'; DROP TABLE users; --",
      "%00",
      "..%2f..%2fetc%2fpasswd",
      "💥".repeat(50),
    ),
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
const loginInput = fc.record(
  { usernameOrEmail: fc.oneof(nasty, anyValue), password, extra: anyValue },
  { requiredKeys: ["password"] },
);

const representation = fc.oneof(
  anyValue,
  fc.record(
    {
      __typename: fc.oneof(
        fc.constantFrom("User", "Query", "Mutation", "Session", "_Service", "AuthPayload", ""),
        anyValue,
      ),
      id: anyValue,
    },
    { requiredKeys: [] },
  ),
);

const answerPaths = [
  ...[[], ["id"], ["rawId"], ["type"], ["response"], ["clientExtensionResults"], ["authenticatorAttachment"]],
  ...["clientDataJSON", "authenticatorData", "signature", "userHandle", "attestationObject", "transports"].map(
    (member) => ["response", member],
  ),
  ...["type", "challenge", "origin", "crossOrigin", "topOrigin", "tokenBinding"].map((member) => [
    "clientData",
    member,
  ]),
];
const base64urlOf = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const passkeyAnswer: fc.Arbitrary<PasskeyAnswer> = fc.record({
  ceremony: fc.constantFrom("login", "registration") as fc.Arbitrary<PasskeyAnswer["ceremony"]>,
  path: fc.constantFrom(...answerPaths),
  value: fc.oneof(
    anyValue,
    fc.uint8Array({ maxLength: 400 }).map(base64urlOf),
    fc.jsonValue({ maxDepth: 3 }).map((value) => base64urlOf(Buffer.from(JSON.stringify(value) ?? ""))),
  ),
  flip: fc.boolean(),
});

const operations: fc.Arbitrary<{ query: string; variables?: unknown; password?: string }> = fc.oneof(
  registerInput.map((input) => ({ query: mutations.register, variables: { input }, password: input.password })),
  loginInput.map((input) => ({ query: mutations.login, variables: { input }, password: input.password })),
  fc.tuple(password, anyValue).map(([secret, currentPassword]) => ({
    query: sessionMutations.changePassword,
    variables: { currentPassword, newPassword: secret },
    password: secret,
  })),
  anyValue.map((refreshToken) => ({ query: sessionMutations.refresh, variables: { refreshToken } })),
  password.map((secret) => ({
    query: "mutation($p: String!) { enrollTotp(currentPassword: $p) { secret otpauthUrl } }",
    variables: { p: secret },
    password: secret,
  })),
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
  password.map((secret) => ({
    query: "mutation($p: String!) { deleteAccount(currentPassword: $p) }",
    variables: { p: secret },
    password: secret,
  })),
  fc
    .tuple(
      fc.constantFrom(
        "verifyEmail(token: $v)",
        "requestPasswordReset(email: $v)",
        "changeUsername(newUsername: $v) { id }",
      ),
      anyValue,
    )
    .map(([field, value]) => ({
      query: `mutation($v: String!) { ${field} }`,
      variables: { v: value },
    })),
  fc.constant({ query: "mutation { requestEmailVerification }" }),
  fc.tuple(anyValue, anyValue, anyValue).map(([first, after, text]) => ({
    query:
      "query($f: Int, $a: String, $q: String, $u: ID!) { users(first: $f, after: $a, query: $q) { edges { cursor } } securityEvents(first: $f, after: $a) { edges { cursor } } userSecurityEvents(userId: $u, first: $f, after: $a) { edges { cursor } } }",
    variables: { f: first, a: after, q: text, u: text },
  })),
  fc.tuple(anyValue, anyValue).map(([id, value]) => ({
    query:
      "mutation($id: ID!, $v: String, $r: [String!]!) { lockUser(id: $id, reason: $v) { id } unlockUser(id: $id) { id } setUserRoles(id: $id, roles: $r) { id } revokeUserSessions(id: $id) }",
    variables: { id, v: value, r: value },
  })),
  fc.tuple(fc.constantFrom("confirmTotp", "regenerateRecoveryCodes"), anyValue).map(([field, code]) => ({
    query: `mutation($c: String!) { ${field}(code: $c) }`,
    variables: { c: code },
  })),
  anyValue.map((id) => ({ query: sessionMutations.revokeSession, variables: { id } })),
  password.map((secret) => ({
    query: passkeyDocuments.beginRegistration,
    variables: { currentPassword: secret },
    password: secret,
  })),
  fc.tuple(anyValue, anyValue, anyValue).map(([challengeId, response, name]) => ({
    query: passkeyDocuments.finishRegistration,
    variables: { challengeId, response, name },
  })),
  fc.tuple(anyValue, anyValue).map(([usernameOrEmail, mfaToken]) => ({
    query: passkeyDocuments.beginLogin,
    variables: { usernameOrEmail, mfaToken },
  })),
  fc
    .tuple(anyValue, anyValue)
    .map(([challengeId, response]) => ({ query: passkeyDocuments.finishLogin, variables: { challengeId, response } })),
  fc.tuple(anyValue, anyValue).map(([id, name]) => ({ query: passkeyDocuments.rename, variables: { id, name } })),
  anyValue.map((id) => ({ query: passkeyDocuments.remove, variables: { id } })),
  fc
    .tuple(fc.oneof(fc.constant("github"), anyValue), fc.oneof(fc.constant(redirectUri), anyValue))
    .map(([provider, uri]) => ({
      query:
        "mutation($p: ID!, $r: String!) { startSocialLogin(provider: $p, redirectUri: $r) { authorizationUrl flowId } linkIdentity(provider: $p, redirectUri: $r) { flowId } }",
      variables: { p: provider, r: uri },
    })),
  fc
    .tuple(
      anyValue,
      fc.oneof(
        anyValue,
        nasty.map((query) => `${redirectUri}?${query}`),
      ),
    )
    .map(([flowId, callbackUrl]) => ({
      query:
        "mutation($f: ID!, $c: String!) { completeSocialLogin(flowId: $f, callbackUrl: $c) { accessToken user { id hasPassword identities { id } } } }",
      variables: { f: flowId, c: callbackUrl },
    })),
  anyValue.map((id) => ({ query: "mutation($id: ID!) { unlinkIdentity(id: $id) }", variables: { id } })),
  anyValue.map((id) => ({
    query: "query($id: ID!) { user(id: $id) { id username email createdAt } }",
    variables: { id },
  })),
  fc.array(representation, { maxLength: 30 }).map((representations) => ({
    query: "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on User { id username email } } }",
    variables: { r: representations },
  })),
  fc
    .oneof(anyValue, fc.array(representation, { maxLength: 5 }))
    .map((r) => ({ query: "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }", variables: r })),
  fc
    .constantFrom(
      mutations.me,
      passkeyDocuments.list,
      sessionMutations.sessions,
      sessionMutations.logout,
      sessionMutations.logoutAll,
      "{ _service { sdl } }",
      "{ identityProviders { id name } }",
      "{ me { id hasPassword identities { id provider email linkedAt } } }",
      "subscription { me { id } }",
      "subscription S { _service { sdl } }",
      "{ __schema { types { name } } }",
      '{ _entities(representations: [{}, 1, "x", null]) { __typename } }',
      'mutation { revokeSession(id: "\\u0000") }',
      "{ me { id } } { me { id } }",
      "query A { me { id } } query B { me { id } }",
      "fragment F on User { ...F } { me { ...F } }",
      "{ me { id @include(if: $undefined) } }",
      "{ mee { id } }",
      "",
    )
    .map((query) => ({ query })),
  nasty.map((query) => ({ query })),
  fc.tuple(nasty, anyValue).map(([query, variables]) => ({ query, variables })),
);

const persistedQuery = fc.record(
  {
    version: anyValue,
    sha256Hash: fc.oneof(anyValue, fc.constant(createHash("sha256").update("{ __typename }").digest("hex"))),
  },
  { requiredKeys: [] },
);

const graphqlPost: fc.Arbitrary<Case> = fc
  .tuple(
    operations,
    maybe(fc.oneof(fc.record({ persistedQuery }), anyValue)),
    maybe(anyValue),
    fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "application/graphql-response+json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "",
    ),
    maybe(
      fc.oneof(
        nasty,
        fc.constant("Bearer "),
        nasty.map((token) => `Bearer ${token}`),
      ),
    ),
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
  .tuple(
    fc.oneof(
      nasty,
      fc.constantFrom(
        "{",
        "[1,2",
        '{"query":',
        "null",
        "[]",
        '[{"query":"{ __typename }"}]',
        '{"query": 5}',
        '{"variables": "x"}',
        "\u0000",
      ),
    ),
    fc.constantFrom("application/json", "text/plain"),
  )
  .map(([body, contentType]) => ({ method: "POST", path: "/graphql", headers: { "content-type": contentType }, body }));

const otherRoutes: fc.Arbitrary<Case> = fc
  .tuple(
    fc.constantFrom("GET", "POST", "PUT") as fc.Arbitrary<Case["method"]>,
    fc.oneof(
      fc.constantFrom(
        "/graphql",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/.well-known/jwks.json",
        "/",
        "/graphql/",
        "//graphql",
        "/%00",
        "/graphql?query=%00",
      ),
      nasty.map((query) => `/graphql?query=${percentEncoded(query)}&variables=${percentEncoded(query)}`),
      fc.webPath(),
    ),
    maybe(nasty),
  )
  .map(([method, path, body]) => ({
    method,
    path,
    headers: { "apollo-require-preflight": "true" },
    body: method === "GET" ? undefined : body,
  }));

/** Every UTF-8 byte of the text, %-encoded (a lone surrogate as U+FFFD, as a client would send it). */
const percentEncoded = (text: string) =>
  [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");

const stackTrace = /\bat [\w.<>]+ \(|\.(?:js|ts):\d+:\d+|stacktrace/i;

it(`answers ${runs} generated bad requests with 4xx or coded errors: no 5xx, no stack, no password`, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        { weight: 6, arbitrary: graphqlPost },
        { weight: 2, arbitrary: malformed },
        { weight: 2, arbitrary: otherRoutes },
      ),
      async (sent) => {
        const response = await fetch(`${server().baseUrl}${sent.path}`, {
          method: sent.method,
          headers: sent.headers,
          body: sent.body,
        });
        const text = await response.text();
        expect(response.status, text.slice(0, 300)).toBeLessThan(500);
        expect(text).not.toContain("INTERNAL_SERVER_ERROR");
        expect(text).not.toMatch(stackTrace);
        if (sent.password) expect(text).not.toContain(sent.password);
        if (response.headers.get("content-type")?.includes("json") && text.includes('"errors"')) {
          for (const error of JSON.parse(text).errors)
            expect(error.extensions?.code, text.slice(0, 300)).toMatch(/^[A-Z_]+$/);
        }
      },
    ),
    { numRuns: runs },
  );
  expect(lines.filter((line) => /unexpected error|request failed|unhandled/.test(line))).toEqual([]);
}, 300_000);

const cursorRuns = 2_000;
const base64urlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const cursorOf = (text: string | Uint8Array) => Buffer.from(text).toString("base64url");

/** What a client could put in `after`: random bytes, odd numbers and keys under every tag, text that is no base64url at all. */
const tamperedCursor = (realCursors: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc.uint8Array({ maxLength: 80 }).map(cursorOf),
    fc
      .tuple(
        fc.constantFrom("event", "user", "session", "EVENT", "", "event:1", "user:"),
        fc.oneof(
          fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
          fc.bigInt({ min: 2n ** 63n - 3n, max: 2n ** 63n + 3n }).map(String),
          fc.constantFrom(
            "0",
            "-0",
            "01",
            "+1",
            "1e3",
            "1.5",
            " 1",
            "0x10",
            "\u0000",
            "a\u0000b",
            "abc",
            "ab",
            "Alice",
            "___",
            "\ud800",
            "💥",
          ),
          fc.string({ unit: "binary", maxLength: 40 }),
          fc.string({ maxLength: 8 }).map((text) => text.repeat(60)),
        ),
      )
      .map(([tag, value]) => cursorOf(`${tag}:${value}`)),
    fc.string({ unit: fc.constantFrom(...base64urlAlphabet, "+", "/", "=", ".", " "), maxLength: 520 }),
    fc
      .tuple(fc.constantFrom(...realCursors), fc.nat(), fc.constantFrom(...base64urlAlphabet, "=", "+"))
      .map(
        ([cursor, at, character]) =>
          cursor.slice(0, at % cursor.length) + character + cursor.slice((at % cursor.length) + 1),
      ),
    nasty,
  );

it(`answers ${cursorRuns} tampered cursors on every paged list with a page or BAD_USER_INPUT on after`, async () => {
  const root = await signUpAdmin(server(), "root");
  const user = await signUp(server());
  const lists = [
    { query: admin.users, variables: {}, token: root.accessToken },
    { query: admin.securityEvents, variables: {}, token: user.accessToken },
    { query: admin.userSecurityEvents, variables: { userId: user.id }, token: root.accessToken },
  ];
  const realCursors: string[] = [];
  for (const list of lists) {
    const { data } = await server().request(list.query, { ...list.variables, first: 1 }, { token: list.token });
    realCursors.push(Object.values(data!)[0].pageInfo.endCursor);
  }
  const outcomes = { page: 0, refused: 0 };
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...lists), tamperedCursor(realCursors), async (list, after) => {
      const response = await server().request(list.query, { ...list.variables, after }, { token: list.token });
      expect(response.status, JSON.stringify(response.errors)).toBeLessThan(500);
      if (response.errors === undefined) {
        expect(Object.values(response.data!)[0]).toHaveProperty("edges");
        outcomes.page++;
      } else {
        const refusals = response.errors.map((error) => [error.extensions?.code, error.extensions?.field]);
        expect(refusals, JSON.stringify(response.errors)).toEqual([["BAD_USER_INPUT", "after"]]);
        outcomes.refused++;
      }
    }),
    { numRuns: cursorRuns },
  );
  console.info(`tampered cursors: ${outcomes.page} pages, ${outcomes.refused} refused on after`);
  // Both answers occurred: some generated cursors were real positions.
  expect(outcomes.refused).toBeGreaterThan(0);
  expect(outcomes.page).toBeGreaterThan(0);
  expect(lines.filter((line) => /unexpected error|request failed|unhandled/.test(line))).toEqual([]);
}, 120_000);

/** Whether the answer is bounded: no 5xx or INTERNAL_SERVER_ERROR, coded errors, at most 1 MB, within 1 s on loopback. */
async function expectBoundedAnswer(body: string, token?: string) {
  const started = performance.now();
  const response = await fetch(server().url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const text = await response.text();
  const milliseconds = performance.now() - started;
  expect(response.status, text.slice(0, 300)).toBeLessThan(500);
  expect(text).not.toContain("INTERNAL_SERVER_ERROR");
  expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024 * 1024);
  for (const error of JSON.parse(text).errors ?? [])
    expect(error.extensions?.code, text.slice(0, 300)).toMatch(/^[A-Z_]+$/);
  // Not a performance figure (those are in bench/): work that grows faster than the body (a walk
  // over every pair of 300 000 list items, say) takes minutes, while a bounded answer takes well under
  // five seconds even with two test files and other work sharing the cores.
  expect(milliseconds, body.slice(0, 300)).toBeLessThan(5000);
}

it("answers generated fragment graphs (chains, diamonds, wide and cyclic spreads, up to 60 fragments) at once", async () => {
  await fc.assert(
    fc.asyncProperty(fragmentDocuments, (query) => expectBoundedAnswer(JSON.stringify({ query }))),
    { numRuns: 300 },
  );
  expect(lines.filter((line) => /unexpected error|request failed|unhandled/.test(line))).toEqual([]);
}, 300_000);

let adminToken: string;
let requests: fc.Arbitrary<ListRequest>;
beforeAll(async () => {
  const [root, known, target] = await Promise.all([
    signUpAdmin(server(), "fuzzadmin"),
    signUp(server(), "fuzzknown"),
    signUp(server(), "fuzztarget"),
  ]);
  adminToken = root.accessToken;
  requests = listRequests({ known: known.id, target: target.id });
});

it("answers every list argument at lengths up to the body limit at once, with a bounded answer", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constant(null).chain(() => requests),
      ({ body, asAdmin }) => expectBoundedAnswer(body, asAdmin ? adminToken : undefined),
    ),
    { numRuns: 120 },
  );
  expect(lines.filter((line) => /unexpected error|request failed|unhandled/.test(line))).toEqual([]);
}, 300_000);

/**
 * A live challenge and the authenticator's answer to it, altered as `answer` says. A registration
 * is answered for the account that began it (its passkeys cleared first, so that it never fills up).
 */
async function alteredAnswer(answer: PasskeyAnswer): Promise<{ variables: Record<string, unknown>; token?: string }> {
  if (answer.ceremony === "login") {
    const { challengeId, options } = await beginLogin(server(), { usernameOrEmail: signingIn.user.account.username });
    return { variables: { challengeId, response: alter(signingIn.authenticator.get(options), answer) } };
  }
  await server().database.passkey.deleteMany({ where: { userId: registering.id } });
  const { challengeId, options } = await beginRegistration(server(), registering.accessToken);
  return {
    variables: { challengeId, response: alter(new TestAuthenticator().create(options), answer), name: "Fuzzed" },
    token: registering.accessToken,
  };
}

type JsonObject = Record<string, unknown>;

/** The authenticator's answer `made`, altered as `answer` says. */
function alter(made: object, { path, value, flip }: PasskeyAnswer): unknown {
  if (path.length === 0) return value;
  // A copy read as plain JSON: a path may put any value in any member.
  const copy = structuredClone(made) as JsonObject;
  if (path[0] === "clientData") {
    const response = copy.response as { clientDataJSON: string };
    const clientData = JSON.parse(Buffer.from(response.clientDataJSON, "base64url").toString()) as JsonObject;
    clientData[path[1]!] = value;
    response.clientDataJSON = Buffer.from(JSON.stringify(clientData)).toString("base64url");
    return copy;
  }
  const parent = path.length === 1 ? copy : copy[path[0]!];
  if (!parent || typeof parent !== "object") return copy;
  const member = parent as JsonObject;
  const key = path.at(-1)!;
  const current = member[key];
  if (flip && typeof current === "string" && current.length > 0) {
    const bytes = Buffer.from(current, "base64url");
    bytes[JSON.stringify(value ?? null).length % bytes.length]! ^= 0x80;
    member[key] = bytes.toString("base64url");
  } else member[key] = value;
  return copy;
}

const passkeyRuns = 400;

it(`answers ${passkeyRuns} altered passkey answers to live challenges with INVALID_PASSKEY, BAD_USER_INPUT or a session: never a 5xx`, async () => {
  const seen = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(passkeyAnswer, async (answer) => {
      const { variables, token } = await alteredAnswer(answer);
      const query = answer.ceremony === "login" ? passkeyDocuments.finishLogin : passkeyDocuments.finishRegistration;
      const response = await fetch(server().url, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      expect(response.status, text.slice(0, 300)).toBeLessThan(500);
      expect(text).not.toMatch(stackTrace);
      const body = JSON.parse(text);
      const outcome = body.errors
        ? body.errors.map((error: { extensions?: { code?: string } }) => error.extensions?.code).join()
        : "OK";
      expect(["INVALID_PASSKEY", "BAD_USER_INPUT", "OK"], text.slice(0, 300)).toContain(outcome);
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    }),
    { numRuns: passkeyRuns },
  );
  // The alterations reached verification, and some left the answer valid (a member it does not read).
  expect(seen.get("INVALID_PASSKEY")).toBeGreaterThan(passkeyRuns / 4);
  expect(seen.get("OK")).toBeGreaterThan(0);
  expect(lines.filter((line) => /unexpected error|request failed|unhandled/.test(line))).toEqual([]);
}, 300_000);
