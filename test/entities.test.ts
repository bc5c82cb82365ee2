import { Trace } from "@apollo/usage-reporting-protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthResult } from "../src/sessions/session-lifecycle.js";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { errorCodes } from "../harness/graphql.js";
import { QueryLog } from "./helpers/query-log.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

// What the router sends to resolve `User` entities that another subgraph referenced.
const entities = `query($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on User { id username createdAt } }
}`;
const entitiesWithEmail = `query($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on User { id email } }
}`;
const representationsOf = (ids: unknown[]) => ids.map((id) => ({ __typename: "User", id }));
const unknownId = "00000000-0000-4000-8000-000000000000";

let database: TestDatabase;
let queries: QueryLog;
let server: TestServer;
let users: AuthResult[];
beforeAll(async () => {
  database = await createTestDatabase();
  queries = new QueryLog(database.url);
  server = await startTestServer({ databaseUrl: database.url, database: queries.database });
  users = await Promise.all(
    Array.from({ length: 100 }, () => server.app.services.accounts.register(newAccount("entity"))),
  );
});
afterAll(async () => {
  await server.close();
  await queries.close();
  await database.drop();
});

describe("_entities for User", () => {
  it.each([1, 10, 100])("resolves %i representations with one SQL query", async (count) => {
    const wanted = users.slice(0, count).map(({ user }) => user);
    const { result, statements } = await queries.during(() =>
      server.request(entities, { representations: representationsOf(wanted.map((user) => user.id)) }),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!._entities).toEqual(
      wanted.map((user) => ({ id: user.id, username: user.username, createdAt: user.createdAt.toISOString() })),
    );
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/\bFROM "?users"?\b/);
  });

  it("answers known, unknown and malformed ids in the order asked, with null for those that name no user", async () => {
    const [first, second] = users.map(({ user }) => user.id);
    const ids = [first, unknownId, "not-a-uuid", "", second, first!.toUpperCase(), 42, null];
    const { result, statements } = await queries.during(() =>
      server.request(entities, { representations: representationsOf(ids) }),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!._entities.map((entity: { id: string } | null) => entity?.id ?? null)).toEqual([
      first,
      null,
      null,
      null,
      second,
      first,
      null,
      null,
    ]);
    expect(statements).toHaveLength(1);
  });

  it("gives the e-mail to its owner only; every other entity's e-mail is null with FORBIDDEN at its path", async () => {
    const [owner, other] = users;
    const representations = representationsOf([other!.user.id, owner!.user.id]);

    const asOwner = await server.request(entitiesWithEmail, { representations }, { token: owner!.accessToken });
    expect(asOwner.data!._entities).toEqual([
      { id: other!.user.id, email: null },
      { id: owner!.user.id, email: owner!.user.email },
    ]);
    expect(errorCodes(asOwner)).toEqual(["FORBIDDEN"]);
    expect(asOwner.errors![0]!.path).toEqual(["_entities", 0, "email"]);

    const anonymous = await server.request(entitiesWithEmail, { representations });
    expect(anonymous.data!._entities.map((entity: { email: string | null }) => entity.email)).toEqual([null, null]);
    expect(errorCodes(anonymous)).toEqual(["FORBIDDEN", "FORBIDDEN"]);
    // Errors come in the order fields resolve, not necessarily the order of the list.
    expect(anonymous.errors!.map((error) => error.path)).toEqual(
      expect.arrayContaining([
        ["_entities", 0, "email"],
        ["_entities", 1, "email"],
      ]),
    );
  });
});

it("answers user(id) with the public profile, to anyone", async () => {
  const { user } = users[0]!;
  const response = await server.request(`query($id: ID!) { user(id: $id) { id username createdAt } }`, { id: user.id });
  expect(response.errors).toBeUndefined();
  expect(response.data!.user).toEqual({
    id: user.id,
    username: user.username,
    createdAt: user.createdAt.toISOString(),
  });
});

it("returns a federated trace (ftv1) when the router asks for one, and only then", async () => {
  const variables = { representations: representationsOf([users[0]!.user.id]) };
  const traced = await server.request(entities, variables, { headers: { "apollo-federation-include-trace": "ftv1" } });
  expect(traced.errors).toBeUndefined();
  const trace = Trace.decode(Buffer.from(traced.extensions!.ftv1 as string, "base64"));
  expect(trace.root?.child?.map((node) => node.responseName)).toEqual(["_entities"]);
  expect(Number(trace.durationNs)).toBeGreaterThan(0);

  const untraced = await server.request(entities, variables);
  expect(untraced.extensions?.ftv1).toBeUndefined();
});
