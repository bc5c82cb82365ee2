import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "./helpers/clock.js";
import { useTestDatabase } from "./helpers/database.js";
import { errorCodes, mutations, sessionMutations, type GraphQLResponse } from "../harness/graphql.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

const database = useTestDatabase();

describe.each(["redis", "memory"] as const)("the life of a session, with the %s revocation store", (store) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: database().url, store });
  });
  afterAll(() => server.close());

  async function signUp(userAgent = "test-agent/1.0") {
    const account = newAccount();
    const response = await server.request(
      mutations.register,
      { input: account },
      { headers: { "user-agent": userAgent } },
    );
    expect(response.errors).toBeUndefined();
    return { account, ...response.data!.register };
  }

  async function logIn(account: { username: string; password: string }, userAgent = "other-agent/2.0") {
    const response = await server.request(
      mutations.login,
      { input: { usernameOrEmail: account.username, password: account.password } },
      { headers: { "user-agent": userAgent } },
    );
    expect(response.errors).toBeUndefined();
    return response.data!.login;
  }

  const me = (token: string) => server.request(mutations.me, {}, { token });
  const refresh = (refreshToken: string, userAgent?: string) =>
    server.request(
      sessionMutations.refresh,
      { refreshToken },
      userAgent ? { headers: { "user-agent": userAgent } } : {},
    );
  const expectUnauthenticated = (response: GraphQLResponse) =>
    expect(errorCodes(response)).toEqual(["UNAUTHENTICATED"]);

  it("rotates: refreshing returns a new pair and the old refresh token dies", async () => {
    const session = await signUp();
    const rotated = await refresh(session.refreshToken);
    expect(rotated.errors).toBeUndefined();
    const next = rotated.data!.refreshSession;
    expect(next.refreshToken).not.toBe(session.refreshToken);
    expect(next.accessToken).not.toBe(session.accessToken);
    expect(next.user.id).toBe(session.user.id);
    expect((await me(next.accessToken)).data!.me.id).toBe(session.user.id);
    // The next pair rotates in turn.
    expect((await refresh(next.refreshToken)).errors).toBeUndefined();
  });

  it("treats a rotated refresh token presented again by another client as theft: the whole session ends", async () => {
    const session = await signUp();
    const next = (await refresh(session.refreshToken)).data!.refreshSession;

    const replay = await refresh(session.refreshToken, "thief/1.0");
    expect(errorCodes(replay)).toEqual(["REFRESH_TOKEN_REUSED"]);
    expect(replay.data).toBeNull();

    // Every token of the session is dead: the legitimate holder must log in again.
    expect(errorCodes(await refresh(next.refreshToken))).toEqual(["INVALID_REFRESH_TOKEN"]);
    expectUnauthenticated(await me(next.accessToken));
    expectUnauthenticated(await me(session.accessToken));
    // Other sessions of the same account are untouched.
    const other = await logIn(session.account);
    expect((await me(other.accessToken)).data!.me.id).toBe(session.user.id);
  });

  it("answers concurrent refreshes of one token by one client with one successor", async () => {
    const session = await signUp();
    const attempts = await Promise.all(Array.from({ length: 6 }, () => refresh(session.refreshToken)));
    for (const attempt of attempts) expect(attempt.errors).toBeUndefined();
    const successors = new Set(attempts.map((attempt) => attempt.data!.refreshSession.refreshToken));
    expect(successors.size).toBe(1);
    for (const attempt of attempts)
      expect((await me(attempt.data!.refreshSession.accessToken)).data!.me.id).toBe(session.user.id);
    // The successor rotates as usual, once.
    expect((await refresh([...successors][0]!)).errors).toBeUndefined();
  });

  it("refuses unknown refresh tokens with INVALID_REFRESH_TOKEN", async () => {
    for (const token of ["", "nonsense", "A".repeat(43)]) {
      expect(errorCodes(await refresh(token))).toEqual(["INVALID_REFRESH_TOKEN"]);
    }
  });

  it("logout ends the presented session on the very next request", async () => {
    const session = await signUp();
    const other = await logIn(session.account);
    const logout = await server.request(sessionMutations.logout, {}, { token: session.accessToken });
    expect(logout.data).toEqual({ logout: true });

    expectUnauthenticated(await me(session.accessToken));
    expect(errorCodes(await refresh(session.refreshToken))).toEqual(["INVALID_REFRESH_TOKEN"]);
    expectUnauthenticated(await server.request(sessionMutations.logout, {}, { token: session.accessToken }));
    expect((await me(other.accessToken)).data!.me.id).toBe(session.user.id);
  });

  it("logoutAll ends every session of the viewer, and no one else's", async () => {
    const session = await signUp();
    const second = await logIn(session.account);
    const stranger = await signUp();
    const response = await server.request(sessionMutations.logoutAll, {}, { token: second.accessToken });
    expect(response.data).toEqual({ logoutAll: true });
    for (const token of [session.accessToken, second.accessToken]) expectUnauthenticated(await me(token));
    for (const token of [session.refreshToken, second.refreshToken]) {
      expect(errorCodes(await refresh(token))).toEqual(["INVALID_REFRESH_TOKEN"]);
    }
    expect((await me(stranger.accessToken)).data!.me.id).toBe(stranger.user.id);
  });

  it("lists the viewer's live sessions and revokes one of them by id", async () => {
    const session = await signUp("browser/1");
    const phone = await logIn(session.account, "phone/7");
    const listed = await server.request(sessionMutations.sessions, {}, { token: session.accessToken });
    expect(listed.errors).toBeUndefined();
    const sessions = listed.data!.sessions as {
      id: string;
      userAgent: string;
      current: boolean;
      createdAt: string;
      lastUsedAt: string;
    }[];
    expect(sessions).toHaveLength(2);
    expect(sessions.find((entry) => entry.current)!.userAgent).toBe("browser/1");
    const phoneSession = sessions.find((entry) => !entry.current)!;
    expect(phoneSession.userAgent).toBe("phone/7");
    expect(Date.parse(phoneSession.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(phoneSession.createdAt));

    // Another account cannot end it, and learns nothing about it.
    const stranger = await signUp();
    const foreign = await server.request(
      sessionMutations.revokeSession,
      { id: phoneSession.id },
      { token: stranger.accessToken },
    );
    expect(foreign.data).toEqual({ revokeSession: false });
    expect((await me(phone.accessToken)).errors).toBeUndefined();

    const revoked = await server.request(
      sessionMutations.revokeSession,
      { id: phoneSession.id },
      { token: session.accessToken },
    );
    expect(revoked.data).toEqual({ revokeSession: true });
    expectUnauthenticated(await me(phone.accessToken));
    expect(errorCodes(await refresh(phone.refreshToken))).toEqual(["INVALID_REFRESH_TOKEN"]);
    const again = await server.request(
      sessionMutations.revokeSession,
      { id: phoneSession.id },
      { token: session.accessToken },
    );
    expect(again.data).toEqual({ revokeSession: false });

    const remaining = await server.request(sessionMutations.sessions, {}, { token: session.accessToken });
    expect(remaining.data!.sessions.map((entry: { id: string }) => entry.id)).toEqual([
      sessions.find((entry) => entry.current)!.id,
    ]);
  });

  it("changePassword checks the current password, ends every other session and returns a new pair", async () => {
    const session = await signUp();
    const other = await logIn(session.account);
    const change = (token: string, currentPassword: string, newPassword: string) =>
      server.request(sessionMutations.changePassword, { currentPassword, newPassword }, { token });

    expect(errorCodes(await change(session.accessToken, "not my password", "a brand new passphrase"))).toEqual([
      "INVALID_CREDENTIALS",
    ]);
    const weak = await change(session.accessToken, session.account.password, "short");
    expect(errorCodes(weak)).toEqual(["WEAK_PASSWORD"]);
    expect(weak.errors![0]!.extensions!.field).toBe("newPassword");
    // Failed attempts changed nothing.
    expect((await me(other.accessToken)).errors).toBeUndefined();

    const changed = await change(session.accessToken, session.account.password, "a brand new passphrase");
    expect(changed.errors).toBeUndefined();
    const fresh = changed.data!.changePassword;
    expect(fresh.user.email).toBe(session.account.email);

    expectUnauthenticated(await me(other.accessToken));
    expect(errorCodes(await refresh(other.refreshToken))).toEqual(["INVALID_REFRESH_TOKEN"]);
    expect((await me(fresh.accessToken)).data!.me.id).toBe(session.user.id);
    expect((await refresh(fresh.refreshToken)).errors).toBeUndefined();

    const oldLogin = await server.request(mutations.login, {
      input: { usernameOrEmail: session.account.username, password: session.account.password },
    });
    expect(errorCodes(oldLogin)).toEqual(["INVALID_CREDENTIALS"]);
    await logIn({ username: session.account.username, password: "a brand new passphrase" });
  });

  it("requires a valid access token for every session operation", async () => {
    for (const query of [sessionMutations.logout, sessionMutations.logoutAll, sessionMutations.sessions]) {
      expectUnauthenticated(await server.request(query));
    }
    expectUnauthenticated(await server.request(sessionMutations.revokeSession, { id: "x" }));
    expectUnauthenticated(
      await server.request(sessionMutations.changePassword, { currentPassword: "a", newPassword: "b" }),
    );
  });
});

describe("expiry, on an injected clock", () => {
  let server: TestServer;
  const clock = new ManualClock();
  beforeAll(async () => {
    server = await startTestServer({
      databaseUrl: database().url,
      store: "memory",
      clock,
      config: { ACCESS_TOKEN_TTL: "15m", REFRESH_TOKEN_TTL: "30d" },
    });
  });
  afterAll(() => server.close());

  it("expires access tokens after their TTL, and refresh tokens after theirs", async () => {
    const session = (await server.request(mutations.register, { input: newAccount() })).data!.register;
    expect(Date.parse(session.accessTokenExpiresAt) - clock.now().getTime()).toBeLessThanOrEqual(15 * 60 * 1000);

    clock.advance(15 * 60 - 5);
    expect((await server.request(mutations.me, {}, { token: session.accessToken })).errors).toBeUndefined();
    clock.advance(10);
    expect(errorCodes(await server.request(mutations.me, {}, { token: session.accessToken }))).toEqual([
      "UNAUTHENTICATED",
    ]);

    // The refresh token outlives the access token…
    const next = (await server.request(sessionMutations.refresh, { refreshToken: session.refreshToken })).data!
      .refreshSession;
    expect((await server.request(mutations.me, {}, { token: next.accessToken })).errors).toBeUndefined();
    // …until its own TTL has passed.
    clock.advance(30 * 86400 + 1);
    expect(errorCodes(await server.request(sessionMutations.refresh, { refreshToken: next.refreshToken }))).toEqual([
      "INVALID_REFRESH_TOKEN",
    ]);
  });
});

describe("housekeeping", () => {
  let server: TestServer;
  const clock = new ManualClock();
  beforeAll(async () => {
    server = await startTestServer({
      databaseUrl: database().url,
      store: "memory",
      clock,
      config: { REFRESH_TOKEN_TTL: "30d" },
    });
  });
  afterAll(() => server.close());

  it("purges sessions that ended or expired long ago, with their refresh tokens, and keeps live ones", async () => {
    const ended = (await server.request(mutations.register, { input: newAccount() })).data!.register;
    await server.request(sessionMutations.logout, {}, { token: ended.accessToken });
    const sessionOf = (token: string) =>
      JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).sid as string;
    const endedId = sessionOf(ended.accessToken);

    clock.advance(8 * 86400);
    const live = (await server.request(mutations.register, { input: newAccount() })).data!.register;
    const liveId = sessionOf(live.accessToken);
    await server.request(sessionMutations.refresh, { refreshToken: live.refreshToken }); // leaves a rotated token

    expect(await server.app.services.sessions.purgeEndedSessions(7 * 86400)).toBeGreaterThanOrEqual(1);
    expect(await server.database.session.findUnique({ where: { id: endedId } })).toBeNull();
    expect(await server.database.refreshToken.count({ where: { sessionId: endedId } })).toBe(0);
    expect(await server.database.session.findUnique({ where: { id: liveId } })).not.toBeNull();
    expect(await server.database.refreshToken.count({ where: { sessionId: liveId } })).toBe(2);

    // Expired sessions go too, once past the retention.
    clock.advance(30 * 86400 + 8 * 86400);
    await server.app.services.sessions.purgeEndedSessions(7 * 86400);
    expect(await server.database.session.findUnique({ where: { id: liveId } })).toBeNull();
  });
});

describe("changing the password", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      databaseUrl: database().url,
      store: "redis",
      loginLimits: { failuresPerClient: 2 },
    });
  });
  afterAll(() => server.close());

  it("limits guesses of the current password like logins", async () => {
    const session = (await server.request(mutations.register, { input: newAccount() })).data!.register;
    const attempt = () =>
      server.request(
        sessionMutations.changePassword,
        { currentPassword: "a wrong guess", newPassword: "a brand new passphrase" },
        { token: session.accessToken },
      );
    expect(errorCodes(await attempt())).toEqual(["INVALID_CREDENTIALS"]);
    expect(errorCodes(await attempt())).toEqual(["INVALID_CREDENTIALS"]);
    expect(errorCodes(await attempt())).toEqual(["RATE_LIMITED"]);
  });
});
