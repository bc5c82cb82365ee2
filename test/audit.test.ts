import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "./helpers/clock.js";
import { admin, logIn, signUp, signUpAdmin, type SignedUp } from "./helpers/accounts.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import type { TestServer } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

const clock = new ManualClock();
const testServer = useTestServer({ store: "redis", clock });
let server: TestServer;
let root: SignedUp;
beforeAll(async () => {
  server = testServer();
  root = await signUpAdmin(server, "auditor");
});

interface Event {
  id: string;
  kind: string;
  at: string;
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** Every event of the account, newest first, as an admin reads them (paging through all). */
async function eventsOf(userId: string): Promise<Event[]> {
  const events: Event[] = [];
  let after: string | null = null;
  do {
    const response = await server.request(
      admin.userSecurityEvents,
      { userId, first: 100, after },
      { token: root.accessToken },
    );
    expect(response.errors).toBeUndefined();
    const page = response.data!.userSecurityEvents;
    events.push(...page.edges.map((edge: { node: Event }) => edge.node));
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after);
  return events;
}

const kinds = async (userId: string) => (await eventsOf(userId)).map((event) => event.kind);
const browser = { "user-agent": "Mozilla/5.0 (audit test)" };
const adminConsole = { "user-agent": "admin-console/1.0" };
const asAdmin = (query: string, variables: Record<string, unknown>) =>
  server.request(query, variables, { token: root.accessToken, headers: adminConsole });

describe("the security events of logins", () => {
  it("records a successful and a failed login with the client; a wrong name records nothing", async () => {
    const user = await signUp(server);
    const before = (await eventsOf(user.id)).length;
    expect((await logIn(server, user.account, browser)).errors).toBeUndefined();
    expect(errorCodes(await logIn(server, { ...user.account, password: "wrong password" }, browser))).toEqual([
      "INVALID_CREDENTIALS",
    ]);
    expect(
      errorCodes(await logIn(server, { ...user.account, username: `x${user.account.username}` }, browser)),
    ).toEqual(["INVALID_CREDENTIALS"]);
    const [failed, succeeded, ...older] = await eventsOf(user.id);
    expect(older).toHaveLength(before);
    expect(succeeded).toMatchObject({
      kind: "login_succeeded",
      actorId: user.id,
      ip: "127.0.0.1",
      userAgent: browser["user-agent"],
    });
    // Nobody was signed in: no actor.
    expect(failed).toMatchObject({
      kind: "login_failed",
      actorId: null,
      ip: "127.0.0.1",
      userAgent: browser["user-agent"],
    });
  });
});

describe("the security events of administration", () => {
  it("records each change once, with the admin as actor and the admin's client; no change, no event", async () => {
    const user = await signUp(server);
    const before = (await eventsOf(user.id)).length;
    const expectNewEvents = async (expected: string[]) => {
      const events = await eventsOf(user.id);
      expect(events.slice(0, events.length - before).map((event) => event.kind)).toEqual(expected);
      for (const event of events.slice(0, expected.length)) {
        if (event.kind.startsWith("login_")) continue; // the user's own, checked above
        expect(event).toMatchObject({ actorId: root.id, ip: "127.0.0.1", userAgent: adminConsole["user-agent"] });
      }
    };

    await asAdmin(admin.setUserRoles, { id: user.id, roles: ["support"] });
    await asAdmin(admin.setUserRoles, { id: user.id, roles: ["support", "user"] }); // the same roles
    await expectNewEvents(["roles_changed"]);

    await asAdmin(admin.lockUser, { id: user.id, reason: "investigation" });
    await asAdmin(admin.lockUser, { id: user.id, reason: "again" });
    // The right password of a locked account: a failed login, the cause kept out of the answer.
    expect(errorCodes(await logIn(server, user.account))).toEqual(["ACCOUNT_LOCKED"]);
    await asAdmin(admin.unlockUser, { id: user.id });
    await asAdmin(admin.unlockUser, { id: user.id });
    await expectNewEvents(["unlocked", "login_failed", "locked", "roles_changed"]);

    const { accessToken } = (await logIn(server, user.account)).data!.login;
    expect((await asAdmin(admin.revokeUserSessions, { id: user.id })).data!.revokeUserSessions).toBe(true);
    expect((await asAdmin(admin.revokeUserSessions, { id: user.id })).data!.revokeUserSessions).toBe(false);
    expect(errorCodes(await server.request(mutations.me, {}, { token: accessToken }))).toEqual(["UNAUTHENTICATED"]);
    await expectNewEvents(["session_ended", "login_succeeded", "unlocked", "login_failed", "locked", "roles_changed"]);

    // What an event says beyond its kind, for those reading the table: never a secret.
    const stored = await server.database.securityEvent.findMany({ where: { userId: user.id }, orderBy: { id: "asc" } });
    expect(
      stored
        .filter((event) => event.kind !== "login_succeeded" && event.kind !== "registered")
        .map((event) => event.details),
    ).toEqual([
      { added: ["support"], removed: [] },
      { reason: "investigation" },
      { reason: "locked" },
      null,
      { reason: "revoked_by_admin", count: 1 },
    ]);
    expect(JSON.stringify(stored.map((event) => ({ ...event, id: String(event.id) })))).not.toContain(
      user.account.password,
    );
  });

  it("loses and duplicates no event under concurrent actions", async () => {
    for (let trial = 0; trial < 5; trial++) {
      const user = await signUp(server);
      const before = await kinds(user.id);
      // Eight logins, three identical locks, three identical role changes, all at once.
      const responses = await Promise.all([
        ...Array.from({ length: 8 }, () => logIn(server, user.account)),
        ...Array.from({ length: 3 }, () => asAdmin(admin.lockUser, { id: user.id })),
        ...Array.from({ length: 3 }, () => asAdmin(admin.setUserRoles, { id: user.id, roles: ["editor"] })),
      ]);
      const succeededLogins = responses.slice(0, 8).filter((response) => !response.errors).length;
      const lockedLogins = responses
        .slice(0, 8)
        .filter((response) => errorCodes(response).join() === "ACCOUNT_LOCKED").length;
      expect(succeededLogins + lockedLogins).toBe(8);
      for (const response of responses.slice(8)) expect(response.errors).toBeUndefined();

      const after = (await kinds(user.id)).slice(0, -before.length || undefined);
      const count = (kind: string) => after.filter((event) => event === kind).length;
      expect(count("login_succeeded")).toBe(succeededLogins);
      // Whether a login read the lock first or met it when storing its session, it failed once.
      expect(count("login_failed")).toBe(lockedLogins);
      expect(count("locked")).toBe(1);
      expect(count("roles_changed")).toBe(1);
      expect(after).toHaveLength(8 + 2);
    }
  });
});

describe("reading security events", () => {
  it("shows the viewer their own events only, newest first, in pages", async () => {
    const [alice, bob] = [await signUp(server), await signUp(server)];
    for (let i = 0; i < 3; i++) await logIn(server, alice.account);
    await logIn(server, bob.account);
    const own = async (token: string, first: number, after?: string) =>
      (await server.request(admin.securityEvents, { first, after }, { token })).data!.securityEvents;

    const firstPage = await own(alice.accessToken, 2);
    expect(firstPage.pageInfo.hasNextPage).toBe(true);
    const secondPage = await own(alice.accessToken, 2, firstPage.pageInfo.endCursor);
    const aliceIds = [...firstPage.edges, ...secondPage.edges].map((edge: { node: Event }) => edge.node.id);
    expect(aliceIds).toEqual((await eventsOf(alice.id)).map((event) => event.id));
    expect(aliceIds.map(Number)).toEqual([...aliceIds.map(Number)].sort((a, b) => b - a));

    // Bob's cursor into Alice's list shows Bob nothing of Alice's.
    const bobEvents = await own(bob.accessToken, 100, firstPage.pageInfo.endCursor);
    const bobIds = new Set((await eventsOf(bob.id)).map((event) => event.id));
    for (const edge of bobEvents.edges) expect(bobIds.has(edge.node.id)).toBe(true);
    expect(errorCodes(await server.request(admin.securityEvents, {}))).toEqual(["UNAUTHENTICATED"]);
  });
});

describe("the security_events table", () => {
  it("refuses updates and deletes; the retention purge alone deletes, only what is past retention", async () => {
    const user = await signUp(server);
    await logIn(server, user.account);
    const client = new pg.Client({ connectionString: testServer().database.pool.options.connectionString });
    await client.connect();
    try {
      await expect(
        client.query("UPDATE security_events SET kind = 'nothing' WHERE user_id = $1", [user.id]),
      ).rejects.toThrow(/append-only/);
      await expect(client.query("DELETE FROM security_events WHERE user_id = $1", [user.id])).rejects.toThrow(
        /append-only/,
      );
      await expect(client.query("TRUNCATE security_events")).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
    const retention = 3600;
    const everything = await server.database.securityEvent.count();
    expect(await server.app.services.audit.purgeOlderThan(retention)).toBe(0);
    clock.advance(retention + 1);
    root.accessToken = (await logIn(server, root.account)).data!.login.accessToken; // the old one expired
    const recent = await signUp(server); // recorded at the new time
    await logIn(server, recent.account);
    expect(await server.app.services.audit.purgeOlderThan(retention)).toBe(everything);
    expect(await server.database.securityEvent.count()).toBe(3); // the two logins and the registration since
    expect(await kinds(recent.id)).toEqual(["login_succeeded", "registered"]);
  });

  it("fails the action when its event cannot be written: the action is not half-done", async () => {
    const user = await signUp(server);
    const client = new pg.Client({ connectionString: testServer().database.pool.options.connectionString });
    await client.connect();
    try {
      // A fault in the audit log only: every "locked" event is refused.
      await client.query(`CREATE FUNCTION refuse_locked_events() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit log unavailable'; END; $$`);
      await client.query(`CREATE TRIGGER refuse_locked_events BEFORE INSERT ON security_events
        FOR EACH ROW WHEN (NEW.kind = 'locked') EXECUTE FUNCTION refuse_locked_events()`);
      const refused = await asAdmin(admin.lockUser, { id: user.id });
      expect(errorCodes(refused)).toEqual(["INTERNAL_SERVER_ERROR"]);
      expect(JSON.stringify(refused)).not.toContain("audit log unavailable");
    } finally {
      await client.query("DROP TRIGGER IF EXISTS refuse_locked_events ON security_events");
      await client.end();
    }
    // Not locked, its session still live.
    expect((await server.request(mutations.me, {}, { token: user.accessToken })).data!.me.id).toBe(user.id);
    expect((await logIn(server, user.account)).errors).toBeUndefined();
    expect(await kinds(user.id)).not.toContain("locked");
  });
});
