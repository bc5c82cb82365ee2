import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { errorCodes, mutations, sessionMutations } from "../harness/graphql.js";
import { admin, logIn, signUp, signUpAdmin, type SignedUp } from "./helpers/accounts.js";
import { useStreamingReplication } from "./helpers/postgres-replica.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const replication = useStreamingReplication();

const entities = `query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on User { id username } }
}`;
const userById = `query User($id: ID!) { user(id: $id) { id username } }`;

/** The ids `_entities` finds among `ids`, null for those it does not. */
async function entityIds(server: TestServer, ids: string[]): Promise<(string | null)[]> {
  const response = await server.request(entities, {
    representations: ids.map((id) => ({ __typename: "User", id })),
  });
  expect(response.errors).toBeUndefined();
  return response.data!._entities.map((entity: { id: string } | null) => entity?.id ?? null);
}

/** Reads of users by id the replica itself has run, as its statement log counts them. */
async function replicaUserReads(): Promise<number> {
  return (await replication().replicaLog()).split("\n").filter((line) => line.includes("execute users-by-id")).length;
}

/** The server's `database_replicas_usable`. */
async function usableReplicas(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  return Number(/^database_replicas_usable (\d+)$/m.exec(text)?.[1]);
}

/**
 * A server reading from the replica. A replica whose stream has not started yet is skipped until
 * the next measure, a second later: on a busy machine that can outlast the test's first requests.
 */
async function startServer(maxLag: string): Promise<TestServer> {
  const server = await startTestServer({
    databaseUrl: replication().primaryUrl,
    config: { DATABASE_REPLICA_URLS: replication().replicaUrl, DATABASE_REPLICA_MAX_LAG: maxLag },
  });
  await vi.waitFor(async () => expect(await usableReplicas(server)).toBe(1), { timeout: 15_000, interval: 100 });
  return server;
}

describe("a replica whose replay is paused", () => {
  let server: TestServer;
  let before: SignedUp;
  let root: SignedUp;
  beforeAll(async () => {
    server = await startServer("1h");
    root = await signUpAdmin(server, "root");
    before = await signUp(server, "before");
    await replication().caughtUp();
    await replication().pauseReplay();
  });
  afterAll(async () => {
    await replication().resumeReplay();
    await server.close();
  });

  it("answers `_entities`, `user`, the users list and security events from the replica; login, refresh, logout and password change from the primary", async () => {
    // Exists on the primary only: whatever reads it for a credential or a session reads the primary.
    const after = await signUp(server, "after");
    const readsBefore = await replicaUserReads();
    for (let request = 0; request < 20; request++) {
      expect(await entityIds(server, [before.id, after.id])).toEqual([before.id, null]);
    }
    expect(await replicaUserReads()).toBeGreaterThanOrEqual(readsBefore + 20);
    expect((await server.request(userById, { id: after.id })).data!.user).toBeNull();
    const listed = await server.request(admin.users, { query: "after" }, { token: root.accessToken });
    expect(listed.data!.users.edges).toEqual([]);
    const events = await server.request(admin.securityEvents, {}, { token: after.accessToken });
    expect(events.data!.securityEvents.edges).toEqual([]);

    expect((await server.request(mutations.me, {}, { token: after.accessToken })).data!.me.id).toBe(after.id);
    const login = await logIn(server, after.account);
    expect(login.errors).toBeUndefined();
    const refreshed = await server.request(sessionMutations.refresh, { refreshToken: login.data!.login.refreshToken });
    expect(refreshed.errors).toBeUndefined();
    const changed = await server.request(
      sessionMutations.changePassword,
      { currentPassword: after.account.password, newPassword: "a brand new passphrase" },
      { token: refreshed.data!.refreshSession.accessToken },
    );
    expect(changed.errors).toBeUndefined();
    // The password change ended the other sessions; the new password logs in, the old one does not.
    expect(errorCodes(await server.request(mutations.me, {}, { token: after.accessToken }))).toEqual([
      "UNAUTHENTICATED",
    ]);
    expect(errorCodes(await logIn(server, after.account))).toEqual(["INVALID_CREDENTIALS"]);
    expect((await logIn(server, { ...after.account, password: "a brand new passphrase" })).errors).toBeUndefined();
    const token = changed.data!.changePassword.accessToken;
    expect((await server.request(sessionMutations.logout, {}, { token })).data).toEqual({ logout: true });
    expect(errorCodes(await server.request(mutations.me, {}, { token }))).toEqual(["UNAUTHENTICATED"]);

    // Still paused: the replica has seen none of it.
    expect(await entityIds(server, [after.id])).toEqual([null]);
    await replication().resumeReplay();
    await replication().caughtUp();
    expect(await entityIds(server, [after.id])).toEqual([after.id]);
    await replication().pauseReplay();
  });
});

describe("a replica further behind than DATABASE_REPLICA_MAX_LAG", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer("1s");
    await replication().caughtUp();
  });
  afterAll(async () => {
    await replication().resumeReplay();
    await server.close();
  });

  it("is skipped: the primary serves, then the replica again once it has caught up", async () => {
    await replication().pauseReplay();
    const late = await signUp(server, "late");
    // The lag is measured every second: the replica is skipped within a few.
    await expect.poll(() => entityIds(server, [late.id]), { timeout: 15_000, interval: 250 }).toEqual([late.id]);
    await replication().resumeReplay();
    await replication().caughtUp();
    const readsBefore = await replicaUserReads();
    await expect
      .poll(async () => (await entityIds(server, [late.id])) && (await replicaUserReads()) > readsBefore, {
        timeout: 15_000,
        interval: 250,
      })
      .toBe(true);
  });
});

describe("a replica stopped", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer("1h");
  });
  afterAll(() => server.close());

  it("is skipped from the first read that finds it down: every request served by the primary, none refused", async () => {
    const user = await signUp(server, "stopped");
    await replication().caughtUp();
    expect(await entityIds(server, [user.id])).toEqual([user.id]);
    expect(await usableReplicas(server)).toBe(1);
    await replication().stopReplica();
    const answers = await Promise.all(Array.from({ length: 20 }, () => entityIds(server, [user.id])));
    expect(answers).toEqual(Array.from({ length: 20 }, () => [user.id]));
    const newcomer = await signUp(server, "newcomer");
    expect(await entityIds(server, [newcomer.id])).toEqual([newcomer.id]);
    expect((await fetch(`${server.baseUrl}/health/ready`)).status).toBe(200);
    expect(await usableReplicas(server)).toBe(0);
  });
});
