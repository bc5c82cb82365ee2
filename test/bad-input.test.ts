import { createHash } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../src/errors/database-unavailable.js";
import { createDatabase } from "../src/db/prisma.js";
import { useTestDatabase } from "./helpers/database.js";
import { errorCodes, mutations, sessionMutations } from "../harness/graphql.js";
import { capturedLogger } from "./helpers/log.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

const { logger, lines } = capturedLogger();
const server = useTestServer({ logger });
const entities = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id username } } }`;

/** Nothing a client sends may be logged as an unexpected error (a bug), or come back with a stack. */
function expectNoBug(response: unknown) {
  expect(JSON.stringify(response)).not.toMatch(/INTERNAL_SERVER_ERROR|stacktrace|\bat .+\.[jt]s:\d+/);
  expect(lines.filter((line) => line.includes("unexpected error"))).toEqual([]);
}

describe("_entities with representations it cannot resolve", () => {
  it("answers BAD_USER_INPUT for each such entry, in its place, and resolves the others", async () => {
    const { user } = await server().app.services.accounts.register(newAccount());
    const representations = [
      {},
      { __typename: "Query" },
      { __typename: "User", id: user.id },
      5,
      "User",
      { __typename: 7 },
      { __typename: "Session" },
      [],
      { __typename: "Nope" },
    ];
    const response = await server().request(entities, { representations });
    expectNoBug(response);
    expect(response.data!._entities).toEqual([
      null,
      null,
      { id: user.id, username: user.username },
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    const failed = response.errors!.map((error) => [error.path, error.extensions!.code]);
    expect(failed).toEqual([0, 1, 3, 4, 5, 6, 7, 8].map((index) => [["_entities", index], "BAD_USER_INPUT"]));
  });

  it("refuses a literal list that holds something other than objects without failing the request", async () => {
    const response = await server().request(`{ _entities(representations: [{}, 1, "x", [1]]) { __typename } }`);
    expectNoBug(response);
    expect(new Set(errorCodes(response))).toEqual(new Set(["BAD_USER_INPUT"]));
  });
});

describe("a NUL character in text input", () => {
  const nul = "a\u0000b";
  it.each([
    [
      "login.usernameOrEmail",
      mutations.login,
      { input: { usernameOrEmail: nul, password: "whatever password" } },
      "usernameOrEmail",
    ],
    ["register.email", mutations.register, { input: { ...newAccount(), email: `${nul}@example.com` } }, "email"],
    ["register.username", mutations.register, { input: { ...newAccount(), username: nul } }, "username"],
    ["refreshSession", sessionMutations.refresh, { refreshToken: nul }, "refreshToken"],
  ])("in %s (a variable) is BAD_USER_INPUT naming the field", async (_where, query, variables, field) => {
    const response = await server().request(query, variables);
    expectNoBug(response);
    expect(response.status).toBe(400);
    expect(response.errors).toEqual([expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", field } })]);
  });

  it("in revokeSession(id) written into the query is BAD_USER_INPUT", async () => {
    const { accessToken } = await server().app.services.accounts.register(newAccount());
    const response = await server().request(`mutation { revokeSession(id: "a\\u0000") }`, {}, { token: accessToken });
    expectNoBug(response);
    expect(response.errors).toEqual([expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", field: "id" } })]);
  });

  it("in a variable is refused every time its document is sent with one, between sendings without", async () => {
    for (let trial = 0; trial < 10; trial++) {
      const clean = await server().request(sessionMutations.refresh, { refreshToken: `not-a-token-${trial}` });
      expect(errorCodes(clean)).toEqual(["INVALID_REFRESH_TOKEN"]);
      const refused = await server().request(sessionMutations.refresh, { refreshToken: `not-a-token\u0000${trial}` });
      expectNoBug(refused);
      expect(refused.errors).toEqual([
        expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", field: "refreshToken" } }),
      ]);
    }
  });

  it("written into the query is refused on every sending of that document, not only the first", async () => {
    const { accessToken } = await server().app.services.accounts.register(newAccount());
    const query = `mutation { revokeSession(id: "b\\u0000") }`;
    for (let trial = 0; trial < 5; trial++) {
      const response = await server().request(query, {}, { token: accessToken });
      expectNoBug(response);
      expect(response.errors).toEqual([
        expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", field: "id" } }),
      ]);
    }
  });
});

describe("automatic persisted queries", () => {
  const query = "{ __typename }";
  const sha256Hash = createHash("sha256").update(query).digest("hex");
  const send = (body: unknown) =>
    fetch(server().url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then(async (response) => ({
      status: response.status,
      ...((await response.json()) as { data?: unknown; errors?: { extensions: { code: string } }[] }),
    }));

  it.each([
    ["an unknown version", { query, extensions: { persistedQuery: { version: 2, sha256Hash } } }, 400, "BAD_REQUEST"],
    [
      "a hash that does not match",
      { query, extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } },
      400,
      "BAD_REQUEST",
    ],
    [
      "a hash not registered",
      { extensions: { persistedQuery: { version: 1, sha256Hash: "1".repeat(64) } } },
      200,
      "PERSISTED_QUERY_NOT_FOUND",
    ],
    [
      "a hash that is not a string",
      { query, extensions: { persistedQuery: { version: 1, sha256Hash: 5 } } },
      400,
      "BAD_REQUEST",
    ],
  ])("with %s are refused with a code", async (_case, body, status, code) => {
    const response = await send(body);
    expectNoBug(response);
    expect(response.status).toBe(status);
    expect(response.errors!.map((error) => error.extensions.code)).toEqual([code]);
  });

  it("work when registered, then by hash alone", async () => {
    expect((await send({ query, extensions: { persistedQuery: { version: 1, sha256Hash } } })).data).toEqual({
      __typename: "Query",
    });
    expect((await send({ extensions: { persistedQuery: { version: 1, sha256Hash } } })).data).toEqual({
      __typename: "Query",
    });
  });
});

it("refuses a subscription, which this subgraph does not serve, as a validation error", async () => {
  const response = await server().request("subscription { me { id } }");
  expectNoBug(response);
  expect(response.status).toBe(400);
  expect(errorCodes(response)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
});

describe("variables of the wrong shape", () => {
  const password = "correct horse battery staple 42";
  it.each([
    ["an unknown field", { ...newAccount(), password, extra: 1 }, "extra"],
    ["a missing field", { email: "x@example.com", password }, "username"],
    ["a number for a string", { ...newAccount(), password, username: 12 }, "username"],
    ["an object for a string", { ...newAccount(), password, email: { password } }, "email"],
  ])("name the field (%s) and never echo the password", async (_case, input, field) => {
    const response = await server().request(mutations.register, { input });
    expectNoBug(response);
    expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
    expect(response.errors![0]!.extensions!.field).toBe(field);
    expect(JSON.stringify(response)).not.toContain(password);
  });

  it("past graphql-js's 50 coercion errors are BAD_USER_INPUT, the last one too", async () => {
    const roles = Array.from({ length: 51 }, () => 1);
    const response = await server().request(`mutation($r: [String!]!) { setUserRoles(id: "x", roles: $r) { id } }`, {
      r: roles,
    });
    expectNoBug(response);
    expect(response.status).toBe(400);
    expect(errorCodes(response)).toEqual(Array.from({ length: 51 }, () => "BAD_USER_INPUT"));
  });

  it("written into the query are not echoed either", async () => {
    const response = await server().request(
      `mutation { login(input: {usernameOrEmail: "${password}", password: 12345678}) { accessToken } }`,
    );
    expectNoBug(response);
    expect(JSON.stringify(response)).not.toContain("12345678");
  });
});

describe("PostgreSQL that cannot serve now", () => {
  const database = useTestDatabase();

  it("a transaction that cannot start in time (Prisma P2028) is unavailability", async () => {
    const client = createDatabase(database().url, { poolSize: 1 });
    const held = await client.pool.connect();
    try {
      const error = await client.$transaction(async () => {}, { maxWait: 50 }).catch((caught: unknown) => caught);
      expect((error as { code?: string }).code).toBe("P2028");
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      held.release();
      await client.$disconnect();
    }
  });

  it("a server shutting down (57P03) or a table not migrated yet is unavailability; a wrong statement is not", async () => {
    const shuttingDown = new pg.DatabaseError("the database system is shutting down", 0, "error");
    shuttingDown.code = "57P03";
    expect(isDatabaseUnavailable(shuttingDown)).toBe(true);
    const client = createDatabase(database().url, { poolSize: 1 });
    try {
      const notMigrated = await client
        .$queryRawUnsafe("SELECT * FROM no_such_table")
        .catch((caught: unknown) => caught);
      expect(isDatabaseUnavailable(notMigrated)).toBe(true);
      const wrong = await client.$queryRawUnsafe("SELECT FROM users WHERE").catch((caught: unknown) => caught);
      expect(wrong).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(wrong)).toBe(false);
    } finally {
      await client.$disconnect();
    }
  });
});
