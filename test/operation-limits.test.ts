import { describe, expect, it } from "vitest";
import { doublingFragments, errorCodes, mutations, type GraphQLResponse } from "../harness/graphql.js";
import { withLivenessProbe } from "./helpers/liveness.js";
import { newAccount, productionSettings } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

const aliases = (count: number, field: string) =>
  Array.from({ length: count }, (_, index) => `a${index.toString(36)}: ${field}`).join(" ");
const login = "login(input: $i) { accessToken }";
const loginInput = (account: { username: string; password: string }) => ({
  i: { usernameOrEmail: account.username, password: account.password },
});
const entities = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }";

function expectRefusedBeforeExecution(response: GraphQLResponse, code: string) {
  expect(response.status).toBe(400);
  expect(response.data).toBeUndefined();
  expect(errorCodes(response)).toContain(code);
  expect(JSON.stringify(response)).not.toMatch(/INTERNAL_SERVER_ERROR|stack/i);
}

describe("with limits set low", () => {
  const server = useTestServer({
    config: {
      MAX_TOKENS: "60",
      MAX_DEPTH: "3",
      MAX_ALIASES: "2",
      MAX_DIRECTIVES: "2",
      MAX_COST: "10",
      MAX_PASSWORD_OPERATIONS: "2",
    },
  });

  // Each pair: the most the limit allows, then one more.
  it.each([
    ["tokens", `{ ${"__typename ".repeat(58)}}`, `{ ${"__typename ".repeat(59)}}`, "TOKEN_LIMIT_EXCEEDED"],
    ["depth", "{ me { id } }", "{ a { b { c { d } } } }", "DEPTH_LIMIT_EXCEEDED"],
    ["aliases", `{ ${aliases(2, "me { id }")} }`, `{ ${aliases(3, "me { id }")} }`, "ALIAS_LIMIT_EXCEEDED"],
    [
      "aliases of __typename",
      `{ ${aliases(2, "__typename")} }`,
      `{ ${aliases(3, "__typename")} }`,
      "ALIAS_LIMIT_EXCEEDED",
    ],
    [
      "directives",
      "{ __typename @skip(if: false) @include(if: true) }",
      "{ __typename @skip(if: false) @include(if: true) a: __typename @skip(if: false) }",
      "DIRECTIVE_LIMIT_EXCEEDED",
    ],
    [
      "cost",
      "{ me { id username } }",
      "{ me { id username createdAt } sessions { id createdAt lastUsedAt userAgent current } }",
      "COST_LIMIT_EXCEEDED",
    ],
  ])(
    "%s: allows the limit, refuses one more before anything runs, with its own code",
    async (_limit, allowed, refused, code) => {
      const within = await server().request(allowed);
      expect(errorCodes(within)).not.toContain(code);
      expect(errorCodes(within)).not.toContain("GRAPHQL_VALIDATION_FAILED");

      expectRefusedBeforeExecution(await server().request(refused), code);
    },
  );

  it("counts password operations through aliases and fragments", async () => {
    const account = newAccount();
    await server().app.services.accounts.register(account);
    const two = await server().request(`mutation($i: LoginInput!) { ${aliases(2, login)} }`, loginInput(account));
    expect(two.errors, JSON.stringify(two.errors)).toBeUndefined();

    const throughFragments = await server().request(
      `mutation($i: LoginInput!) { ...Twice ... on Mutation { c: ${login} } } fragment Twice on Mutation { ${aliases(2, login)} }`,
      loginInput(account),
    );
    expect(errorCodes(throughFragments)).toContain("PASSWORD_OPERATION_LIMIT_EXCEEDED");
  });

  it("ends its count on a fragment cycle, which is refused as invalid", async () => {
    const response = await server().request(
      `mutation { ...A } fragment A on Mutation { ...B } fragment B on Mutation { ...A }`,
    );
    expect(response.status).toBe(400);
    expect(errorCodes(response)).toContain("GRAPHQL_VALIDATION_FAILED");
  });
});

describe("with MAX_ENTITIES set low", () => {
  const server = useTestServer({ config: { MAX_ENTITIES: "2" } });

  it.each([
    ["a variable", entities, { r: [{}, {}] }, { r: [{}, {}, {}] }],
    ["a literal list", "{ _entities(representations: [{}, {}]) { __typename } }", {}, undefined],
    [
      "aliases and fragments, summed",
      "query($r: [_Any!]!) { a: _entities(representations: $r) { __typename } ...F } fragment F on Query { b: _entities(representations: $r) { __typename } }",
      { r: [{}] },
      { r: [{}, {}] },
    ],
    [
      "a fragment spread twice, counted once",
      "query($r: [_Any!]!) { ...F ...F } fragment F on Query { _entities(representations: $r) { __typename } }",
      { r: [{}, {}] },
      { r: [{}, {}, {}] },
    ],
    [
      "a list of variables",
      "query($a: _Any!, $b: _Any!) { _entities(representations: [$a, $b]) { __typename } }",
      { a: {}, b: {} },
      undefined,
    ],
  ])(
    "counts representations in %s, and refuses one more before anything runs",
    async (_case, query, allowedVariables, refusedVariables) => {
      const within = await server().request(query, allowedVariables);
      expect(errorCodes(within)).not.toContain("ENTITY_LIMIT_EXCEEDED");
      expect(within.data!._entities ?? within.data!.a).toBeDefined();
      const over = refusedVariables
        ? await server().request(query, refusedVariables)
        : await server().request(
            query.replace("[{}, {}]", "[{}, {}, {}]").replace("[$a, $b]", "[$a, $b, $a]"),
            allowedVariables,
          );
      expectRefusedBeforeExecution(over, "ENTITY_LIMIT_EXCEEDED");
      expect(errorCodes(over)).toEqual(["ENTITY_LIMIT_EXCEEDED"]);
    },
  );

  it("counts a variable's default list when the variable is not given", async () => {
    const response = await server().request(
      "query($r: [_Any!]! = [{}, {}, {}]) { _entities(representations: $r) { __typename } }",
    );
    expectRefusedBeforeExecution(response, "ENTITY_LIMIT_EXCEEDED");
  });
});

describe("in production, with the default limits", () => {
  const server = useTestServer({ config: productionSettings });

  it("refuses the 100 000-alias _service request at the token limit", async () => {
    const query = `{_service{${aliases(100_000, "sdl").replaceAll(": ", ":")}}}`;
    expect(query.length).toBeLessThan(1024 * 1024);
    const response = await server().request(query);
    expect(response.status).toBe(400);
    expect(errorCodes(response)).toEqual(["TOKEN_LIMIT_EXCEEDED"]);
  });

  it("allows one password operation per request", async () => {
    const account = newAccount();
    const registered = await server().request(mutations.register, { input: account });
    expect(registered.errors, JSON.stringify(registered.errors)).toBeUndefined();
    const twice = await server().request(`mutation($i: LoginInput!) { ${aliases(2, login)} }`, loginInput(account));
    expect(errorCodes(twice)).toEqual(["PASSWORD_OPERATION_LIMIT_EXCEEDED"]);
  });

  it.each([24, 40])(
    "refuses %i fragments each spread twice by the one before, and stays live meanwhile",
    async (count) => {
      const query = `${doublingFragments(count, "Query", (index) => `a${index}: __typename`)} { ...F0 }`;
      const { answer, liveStatus } = await withLivenessProbe(server(), () => server().request(query));
      expectRefusedBeforeExecution(answer, "COST_LIMIT_EXCEEDED");
      expect(liveStatus).toBe(200);
    },
  );

  it("counts a password field reached through 2^39 fragment paths as more than one", async () => {
    const query = `mutation($i: LoginInput!) { ...F0 } ${doublingFragments(40, "Mutation", (index) => (index === 39 ? login : ""))}`;
    const response = await server().request(query, loginInput(newAccount()));
    expectRefusedBeforeExecution(response, "PASSWORD_OPERATION_LIMIT_EXCEEDED");
  });

  it.each([340_000, 100_000])(
    "refuses %i representations before resolving any, and stays live meanwhile",
    async (count) => {
      const variables = { r: Array.from({ length: count }, () => ({})) };
      expect(JSON.stringify({ query: entities, variables }).length).toBeLessThan(1024 * 1024);
      const { answer, liveStatus } = await withLivenessProbe(server(), () => server().request(entities, variables));
      expectRefusedBeforeExecution(answer, "ENTITY_LIMIT_EXCEEDED");
      expect(errorCodes(answer)).toEqual(["ENTITY_LIMIT_EXCEEDED"]);
      expect(liveStatus).toBe(200);
    },
  );

  it("resolves 1 000 representations, sending 100 of their errors and the count of the others", async () => {
    const response = await server().request(entities, { r: Array.from({ length: 1000 }, () => ({})) });
    expect(response.status).toBe(200);
    expect(response.data!._entities).toEqual(Array.from({ length: 1000 }, () => null));
    expect(response.errors).toHaveLength(101);
    expect(response.errors!.slice(0, 100).map((error) => error.path)).toEqual(
      Array.from({ length: 100 }, (_, index) => ["_entities", index]),
    );
    expect(errorCodes(response).slice(0, 100)).toEqual(Array.from({ length: 100 }, () => "BAD_USER_INPUT"));
    expect(response.errors![100]).toEqual({
      message: expect.any(String),
      extensions: { code: "ERRORS_TRUNCATED", omitted: 900 },
    });

    const over = await server().request(entities, { r: Array.from({ length: 1001 }, () => ({})) });
    expectRefusedBeforeExecution(over, "ENTITY_LIMIT_EXCEEDED");
  });

  it("makes no more than 100 of the errors of 1 000 entities' private fields, counting the others", async () => {
    const { user } = await server().app.services.accounts.register(newAccount());
    const emails = aliases(15, "email");
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id ${emails} roles lockedAt totpEnabled emailVerified } } }`;
    const response = await server().request(query, {
      r: Array.from({ length: 1000 }, () => ({ __typename: "User", id: user.id })),
    });
    expect(response.status).toBe(200);
    expect(response.data!._entities).toHaveLength(1000);
    for (const entity of response.data!._entities) {
      expect(entity).toEqual({
        id: user.id,
        ...Object.fromEntries(
          Object.keys(entity)
            .filter((key) => key !== "id")
            .map((key) => [key, null]),
        ),
      });
      expect(Object.keys(entity)).toHaveLength(20);
    }
    expect(errorCodes(response)).toEqual([...Array.from({ length: 100 }, () => "FORBIDDEN"), "ERRORS_TRUNCATED"]);
    expect(response.errors![100]!.extensions!.omitted).toBe(1000 * 19 - 100);
  });

  it.each([
    ["an alias", (name: string) => `{ ${name}: __typename }`],
    ["a variable", (name: string) => `query($${name}: ID! = "x") { user(id: $${name}) { id } }`],
  ])("refuses %s longer than 64 characters, which the answer would repeat", async (_case, query) => {
    const within = await server().request(query("n".repeat(64)));
    expect(within.errors, JSON.stringify(within.errors)).toBeUndefined();
    const over = await server().request(query("n".repeat(65)));
    expectRefusedBeforeExecution(over, "GRAPHQL_VALIDATION_FAILED");
    expect(over.errors).toHaveLength(1);
  });

  it("refuses a 20 000-character alias over 1 000 entities before making the 20 MB answer", async () => {
    const { user } = await server().app.services.accounts.register(newAccount());
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ${"a".repeat(20_000)}: __typename } }`;
    const response = await server().request(query, {
      r: Array.from({ length: 1000 }, () => ({ __typename: "User", id: user.id })),
    });
    expectRefusedBeforeExecution(response, "GRAPHQL_VALIDATION_FAILED");
    expect(JSON.stringify(response).length).toBeLessThan(1000);
  });

  it("suggests no field names", async () => {
    const response = await server().request("{ mee { id } }");
    expect(errorCodes(response)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    expect(response.errors![0]!.message).not.toMatch(/did you mean|"me"/i);
  });
});
