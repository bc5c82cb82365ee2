import { randomBytes } from "node:crypto";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, logIn, signUp, signUpAdmin, type SignedUp } from "./helpers/accounts.js";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { errorCodes, mutations, sessionMutations, type GraphQLResponse } from "../harness/graphql.js";
import { QueryLog } from "./helpers/query-log.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

let database: TestDatabase;
let queries: QueryLog;
let server: TestServer;
let root: SignedUp;
beforeAll(async () => {
  database = await createTestDatabase();
  queries = new QueryLog(database.url);
  server = await startTestServer({ databaseUrl: database.url, database: queries.database, store: "redis" });
  root = await signUpAdmin(server, "root");
});
afterAll(async () => {
  await server.close();
  await queries.close();
  await database.drop();
});

const asAdmin = (query: string, variables: Record<string, unknown> = {}) =>
  server.request(query, variables, { token: root.accessToken });
const me = (token: string) => server.request(mutations.me, {}, { token });
const expectCode = (response: GraphQLResponse, code: string, field?: string) => {
  expect(errorCodes(response)).toEqual([code]);
  if (field) expect(response.errors![0]!.extensions!.field).toBe(field);
};

describe("roles in the access token", () => {
  // What a router or another subgraph does: verify against the published key set, nothing else.
  const verify = async (token: string) => {
    const jwks = createRemoteJWKSet(new URL(`${server.baseUrl}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(token, jwks, { issuer: "users-subgraph", audience: "supergraph" });
    return payload.roles;
  };

  it("carries the roles, verifiable through the JWKS, before and after setUserRoles", async () => {
    const user = await signUp(server);
    expect(await verify(user.accessToken)).toEqual(["user"]);

    const granted = await asAdmin(admin.setUserRoles, { id: user.id, roles: ["support", "billing:read"] });
    expect(granted.errors).toBeUndefined();
    expect(granted.data!.setUserRoles.roles).toEqual(["user", "billing:read", "support"]);
    // New tokens carry them at once, by login and by refresh; adding a role ends no session.
    expect(await verify((await logIn(server, user.account)).data!.login.accessToken)).toEqual([
      "user",
      "billing:read",
      "support",
    ]);
    const refreshed = await server.request(sessionMutations.refresh, { refreshToken: user.refreshToken });
    expect(await verify(refreshed.data!.refreshSession.accessToken)).toEqual(["user", "billing:read", "support"]);

    const removed = await asAdmin(admin.setUserRoles, { id: user.id, roles: ["billing:read"] });
    expect(removed.data!.setUserRoles.roles).toEqual(["user", "billing:read"]);
    // Taking a role away ends every session, so no live token still claims it.
    expect(errorCodes(await me(refreshed.data!.refreshSession.accessToken))).toEqual(["UNAUTHENTICATED"]);
    expect(
      errorCodes(
        await server.request(sessionMutations.refresh, { refreshToken: refreshed.data!.refreshSession.refreshToken }),
      ),
    ).toEqual(["INVALID_REFRESH_TOKEN"]);
    expect(await verify((await logIn(server, user.account)).data!.login.accessToken)).toEqual(["user", "billing:read"]);
  });

  it("shows roles to their owner and to admins; anyone else gets null and FORBIDDEN", async () => {
    const [owner, other] = [await signUp(server), await signUp(server)];
    const read = (token?: string) => server.request(admin.userRoles, { id: owner.id }, { token });

    expect((await read(owner.accessToken)).data!.user).toMatchObject({ roles: ["user"], email: owner.account.email });
    expect((await read(root.accessToken)).data!.user).toMatchObject({ roles: ["user"], email: owner.account.email });
    for (const response of [await read(other.accessToken), await read()]) {
      expect(response.data!.user).toEqual({ id: owner.id, roles: null, email: null });
      expect(errorCodes(response)).toEqual(["FORBIDDEN", "FORBIDDEN"]);
    }
  });
});

describe("admin operations", () => {
  it("are FORBIDDEN to non-admins and need a token", async () => {
    const user = await signUp(server);
    const operations: [string, Record<string, unknown>][] = [
      [admin.users, {}],
      [admin.lockUser, { id: root.id }],
      [admin.unlockUser, { id: root.id }],
      [admin.setUserRoles, { id: user.id, roles: ["admin"] }],
      [admin.revokeUserSessions, { id: root.id }],
      [admin.userSecurityEvents, { userId: root.id }],
    ];
    for (const [query, variables] of operations) {
      expectCode(await server.request(query, variables, { token: user.accessToken }), "FORBIDDEN");
      expectCode(await server.request(query, variables), "UNAUTHENTICATED");
    }
    // Nothing happened: the user did not make itself an admin, the admin was not locked.
    const roles = await asAdmin(admin.userRoles, { id: user.id });
    expect(roles.data!.user.roles).toEqual(["user"]);
    expect((await me(root.accessToken)).errors).toBeUndefined();
  });

  it("pages through 250 users 50 at a time, one SQL statement per page, with stable cursors", async () => {
    const prefix = `pg${randomBytes(3).toString("hex")}`;
    const created = [];
    // Ten at a time: more registrations at once would queue on the pool past its connect timeout.
    for (let batch = 0; batch < 25; batch++) {
      created.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, () => server.app.services.accounts.register(newAccount(prefix))),
        )),
      );
    }
    const expected = created.map(({ user }) => user.id);
    const byName = new Map(created.map(({ user }) => [user.id, user.username.toLowerCase()]));
    expected.sort((a, b) => (byName.get(a)! < byName.get(b)! ? -1 : 1));

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const { result, statements } = await queries.during(() =>
        asAdmin(admin.users, { first: 50, after, query: prefix.toUpperCase() }),
      );
      expect(result.errors).toBeUndefined();
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(/FROM "public"\."users"/);
      const { edges, pageInfo } = result.data!.users;
      expect(edges).toHaveLength(50);
      expect(pageInfo).toEqual({ hasNextPage: page < 4, endCursor: edges[49].cursor });
      seen.push(...edges.map((edge: { node: { id: string } }) => edge.node.id));
      after = pageInfo.endCursor;
      if (page === 1) {
        // Accounts created meanwhile move no page: the cursor is a position, not an offset.
        await server.app.services.accounts.register({ ...newAccount(prefix), username: `${prefix}0000` });
      }
    }
    expect(seen).toEqual(expected);
    // The admin sees each account's private fields.
    const first = await asAdmin(admin.users, { first: 1, query: created[0]!.user.email });
    expect(first.data!.users.edges).toEqual([
      {
        cursor: expect.any(String),
        node: {
          id: created[0]!.user.id,
          username: created[0]!.user.username,
          email: created[0]!.user.email,
          roles: ["user"],
          lockedAt: null,
        },
      },
    ]);
  });

  it("searches by prefix only: LIKE wildcards in the query match themselves", async () => {
    const user = await signUp(server, `w${randomBytes(2).toString("hex")}`);
    const found = async (query: string) =>
      (await asAdmin(admin.users, { query })).data!.users.edges.map((edge: { node: { id: string } }) => edge.node.id);
    expect(await found(user.account.username.slice(0, 6))).toContain(user.id);
    expect(await found(user.account.email)).toEqual([user.id]);
    expect(await found(`%${user.account.username.slice(1)}`)).toEqual([]);
    expect(await found(`${user.account.username.slice(0, 2)}_`)).toEqual([]);
  });

  it("validates input with BAD_USER_INPUT naming the field", async () => {
    const user = await signUp(server);
    expectCode(await asAdmin(admin.users, { first: 0 }), "BAD_USER_INPUT", "first");
    expectCode(await asAdmin(admin.users, { first: 101 }), "BAD_USER_INPUT", "first");
    expectCode(await asAdmin(admin.users, { after: "not a cursor" }), "BAD_USER_INPUT", "after");
    expectCode(await asAdmin(admin.users, { query: "x".repeat(255) }), "BAD_USER_INPUT", "query");
    // A cursor of one list is no cursor of another.
    const events = await asAdmin(admin.userSecurityEvents, { userId: root.id, first: 1 });
    expectCode(
      await asAdmin(admin.users, { after: events.data!.userSecurityEvents.pageInfo.endCursor }),
      "BAD_USER_INPUT",
      "after",
    );
    expectCode(
      await asAdmin(admin.userSecurityEvents, { userId: root.id, after: "dXNlcjph" }),
      "BAD_USER_INPUT",
      "after",
    );
    expectCode(await asAdmin(admin.userSecurityEvents, { userId: "nope" }), "BAD_USER_INPUT", "userId");
    for (const roles of [
      ["Admin"],
      ["has space"],
      [""],
      ["x".repeat(65)],
      Array.from({ length: 33 }, (_, i) => `role${i}`),
    ]) {
      expectCode(await asAdmin(admin.setUserRoles, { id: user.id, roles }), "BAD_USER_INPUT", "roles");
    }
    for (const query of [admin.lockUser, admin.unlockUser, admin.revokeUserSessions]) {
      expectCode(await asAdmin(query, { id: "not-a-uuid" }), "BAD_USER_INPUT", "id");
    }
    expectCode(await asAdmin(admin.lockUser, { id: "00000000-0000-4000-8000-000000000000" }), "BAD_USER_INPUT", "id");
    expectCode(await asAdmin(admin.lockUser, { id: user.id, reason: "x".repeat(501) }), "BAD_USER_INPUT", "reason");
    expect(
      (await asAdmin(admin.revokeUserSessions, { id: "00000000-0000-4000-8000-000000000000" })).data!
        .revokeUserSessions,
    ).toBe(false);
  });
});

describe("locking an account", () => {
  it("ends its sessions at once, refuses refresh, and answers ACCOUNT_LOCKED only to the right password", async () => {
    const user = await signUp(server);
    const locked = await asAdmin(admin.lockUser, { id: user.id, reason: "chargeback fraud" });
    expect(locked.errors).toBeUndefined();
    expect(new Date(locked.data!.lockUser.lockedAt).getTime()).toBeGreaterThan(0);

    expectCode(await me(user.accessToken), "UNAUTHENTICATED");
    expectCode(
      await server.request(sessionMutations.refresh, { refreshToken: user.refreshToken }),
      "INVALID_REFRESH_TOKEN",
    );
    expectCode(await logIn(server, user.account), "ACCOUNT_LOCKED");
    expectCode(await logIn(server, { ...user.account, password: "not the password" }), "INVALID_CREDENTIALS");
    expectCode(
      await logIn(server, { ...user.account, username: `nobody-${user.account.username}` }),
      "INVALID_CREDENTIALS",
    );

    const unlocked = await asAdmin(admin.unlockUser, { id: user.id });
    expect(unlocked.data!.unlockUser).toEqual({ id: user.id, lockedAt: null });
    const login = await logIn(server, user.account);
    expect(login.errors).toBeUndefined();
    expect((await me(login.data!.login.accessToken)).data!.me.id).toBe(user.id);
  });

  it("leaves no live session to a login that races the lock", async () => {
    for (let trial = 0; trial < 8; trial++) {
      const user = await signUp(server);
      const [lock, ...logins] = await Promise.all([
        asAdmin(admin.lockUser, { id: user.id }),
        ...Array.from({ length: 4 }, () => logIn(server, user.account)),
      ]);
      expect(lock.errors).toBeUndefined();
      for (const login of logins) {
        if (login.errors) expect(errorCodes(login)).toEqual(["ACCOUNT_LOCKED"]);
        else expectCode(await me(login.data!.login.accessToken), "UNAUTHENTICATED");
      }
      expect(await server.database.session.count({ where: { userId: user.id, revokedAt: null } })).toBe(0);
    }
  });
});

describe("the last admin", () => {
  it("cannot be locked or lose the admin role", async () => {
    // A database of its own: exactly one admin in it.
    const own = await createTestDatabase();
    const alone = await startTestServer({ databaseUrl: own.url });
    try {
      const only = await signUpAdmin(alone, "only");
      const call = (query: string, variables: Record<string, unknown>) =>
        alone.request(query, variables, { token: only.accessToken });
      expectCode(await call(admin.setUserRoles, { id: only.id, roles: ["support"] }), "LAST_ADMIN");
      expectCode(await call(admin.lockUser, { id: only.id }), "LAST_ADMIN");
      const still = await call(admin.userRoles, { id: only.id });
      expect(still.data!.user.roles).toEqual(["user", "admin"]);

      // With a second admin, either may go, but two admins demoting each other at once leave one.
      for (let trial = 0; trial < 5; trial++) {
        const other = await signUpAdmin(alone, "second");
        const [first, second] = await Promise.all([
          call(admin.setUserRoles, { id: other.id, roles: [] }),
          alone.request(admin.setUserRoles, { id: only.id, roles: [] }, { token: other.accessToken }),
        ]);
        // The loser is refused as the last admin, or (demoted already) no longer signed in.
        const outcomes = [first, second].map((response) => errorCodes(response).join() || "ok");
        expect(outcomes.filter((outcome) => outcome === "ok")).toHaveLength(1);
        expect(["LAST_ADMIN", "UNAUTHENTICATED"]).toContain(outcomes.find((outcome) => outcome !== "ok"));
        const admins = await alone.database.user.count({ where: { roles: { has: "admin" }, lockedAt: null } });
        expect(admins).toBe(1);
        if (first.errors) {
          // The other one won: restore the original admin for the next trial.
          await alone.database.user.update({ where: { id: only.id }, data: { roles: ["admin"] } });
          await alone.database.user.update({ where: { id: other.id }, data: { roles: [] } });
          only.accessToken = (await logIn(alone, only.account)).data!.login.accessToken;
        }
      }
    } finally {
      await alone.close();
      await own.drop();
    }
  });
});
