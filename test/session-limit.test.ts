import { describe, expect, it } from "vitest";
import { admin, logIn, signUp } from "./helpers/accounts.js";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, mutations, sessionMutations } from "../harness/graphql.js";
import { mfaClient, mfaDocuments } from "./helpers/mfa.js";
import { passkeySettings, registerPasskey, signInWithPasskey, TestAuthenticator } from "./helpers/passkeys.js";
import type { TestServer } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

type Tokens = { accessToken: string; refreshToken: string };

const sessionIdOf = (accessToken: string): string =>
  JSON.parse(Buffer.from(accessToken.split(".")[1]!, "base64url").toString()).sid;

async function liveSessionIds(server: TestServer, userId: string): Promise<string[]> {
  const rows = await server.database.session.findMany({
    where: { userId, revokedAt: null, expiresAt: { gt: new Date() } },
    select: { id: true },
  });
  return rows.map((row) => row.id).sort();
}

/** Whether a session's tokens still work: its access token, then its refresh token (which rotates it). */
async function works(server: TestServer, tokens: Tokens): Promise<{ access: boolean; refresh: boolean }> {
  const me = await server.request(mutations.me, {}, { token: tokens.accessToken });
  if (me.errors) expect(errorCodes(me)).toEqual(["UNAUTHENTICATED"]);
  const refreshed = await server.request(sessionMutations.refresh, { refreshToken: tokens.refreshToken });
  if (refreshed.errors) expect(errorCodes(refreshed)).toEqual(["INVALID_REFRESH_TOKEN"]);
  return { access: !me.errors, refresh: !refreshed.errors };
}

describe("a loop of logins with the default MAX_SESSIONS_PER_ACCOUNT (100)", () => {
  const server = useTestServer({ store: "redis" });

  it("keeps 100 sessions live and lists 100, however many logins succeed", async () => {
    const user = await signUp(server());
    const logins: Tokens[] = [];
    for (let i = 0; i < 130; i++) {
      const response = await logIn(server(), user.account);
      expect(response.errors).toBeUndefined();
      logins.push(response.data!.login);
    }
    expect(await liveSessionIds(server(), user.id)).toHaveLength(100);
    const listed = await server().request(sessionMutations.sessions, {}, { token: logins.at(-1)!.accessToken });
    expect(listed.data!.sessions).toHaveLength(100);
    // The 31 least recently used ended: the registration's session and the first 30 logins'.
    expect(await works(server(), user)).toEqual({ access: false, refresh: false });
    for (const tokens of logins.slice(0, 30))
      expect(await works(server(), tokens)).toEqual({ access: false, refresh: false });
    expect(await works(server(), logins[30]!)).toEqual({ access: true, refresh: true });
  }, 120_000);
});

describe("with MAX_SESSIONS_PER_ACCOUNT=3", () => {
  const server = useTestServer({ store: "redis", config: { ...passkeySettings, MAX_SESSIONS_PER_ACCOUNT: "3" } });

  it("ends the least recently used session at the next sign-in, as revokeSession would, and records it", async () => {
    const user = await signUp(server());
    const [second, third] = [
      (await logIn(server(), user.account)).data!.login,
      (await logIn(server(), user.account)).data!.login,
    ];
    // Used since: the registration's session is no longer the least recently used; the second is.
    const registration = (await server().request(sessionMutations.refresh, { refreshToken: user.refreshToken })).data!
      .refreshSession;
    const fourth = (await logIn(server(), user.account)).data!.login;

    expect(await liveSessionIds(server(), user.id)).toEqual(
      [registration, third, fourth].map((tokens) => sessionIdOf(tokens.accessToken)).sort(),
    );
    expect(errorCodes(await server().request(mutations.me, {}, { token: second.accessToken }))).toEqual([
      "UNAUTHENTICATED",
    ]);
    expect(errorCodes(await server().request(sessionMutations.refresh, { refreshToken: second.refreshToken }))).toEqual(
      ["INVALID_REFRESH_TOKEN"],
    );
    const ended = await server().database.session.findUniqueOrThrow({ where: { id: sessionIdOf(second.accessToken) } });
    expect(ended.revokedReason).toBe("session_limit");
    const listed = (await server().request(sessionMutations.sessions, {}, { token: fourth.accessToken })).data!
      .sessions;
    expect(listed.map((session: { id: string }) => session.id).sort()).toEqual(await liveSessionIds(server(), user.id));

    const events = (await server().request(admin.securityEvents, { first: 3 }, { token: fourth.accessToken })).data!
      .securityEvents.edges;
    expect(
      events.map((edge: { node: { kind: string; actorId: string } }) => [edge.node.kind, edge.node.actorId]),
    ).toEqual([
      ["session_ended", user.id],
      ["login_succeeded", user.id],
      ["login_succeeded", user.id],
    ]);
    const recorded = await server().database.securityEvent.findFirstOrThrow({
      where: { userId: user.id, kind: "session_ended" },
    });
    expect(recorded.details).toEqual({ reason: "session_limit", count: 1 });
  });

  it("applies to a login completed with a second factor", async () => {
    const clock = new ManualClock();
    const client = mfaClient(server, clock);
    const user = await client.registerWithMfa();
    const before = [(await logIn(server(), user.account)).errors, (await logIn(server(), user.account)).errors];
    expect(before.map((errors) => errors?.[0]?.extensions?.code)).toEqual(["MFA_REQUIRED", "MFA_REQUIRED"]);
    const completed: Tokens[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await client.complete(await client.mfaToken(user.account), user.recoveryCodes[i]!);
      expect(response.errors).toBeUndefined();
      completed.push(response.data!.completeLogin);
    }
    expect(await liveSessionIds(server(), user.userId)).toEqual(
      completed
        .slice(1)
        .map((tokens) => sessionIdOf(tokens.accessToken))
        .sort(),
    );
    expect(
      errorCodes(await server().request(mfaDocuments.totpEnabled, {}, { token: completed[0]!.accessToken })),
    ).toEqual(["UNAUTHENTICATED"]);
  });

  it("applies to passkey sign-ins, whose login events still say a passkey signed in", async () => {
    const user = await signUp(server());
    const authenticator = new TestAuthenticator();
    await registerPasskey(server(), user.accessToken, authenticator);
    const signedIn: Tokens[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await signInWithPasskey(server(), authenticator, { usernameOrEmail: user.account.username });
      expect(response.errors).toBeUndefined();
      signedIn.push(response.data!.finishPasskeyLogin);
    }
    expect(await liveSessionIds(server(), user.id)).toEqual(
      signedIn
        .slice(1)
        .map((tokens) => sessionIdOf(tokens.accessToken))
        .sort(),
    );
    expect(await works(server(), user)).toEqual({ access: false, refresh: false });
    expect(await works(server(), signedIn[0]!)).toEqual({ access: false, refresh: false });
    const events = await server().database.securityEvent.findMany({
      where: { userId: user.id, kind: { in: ["login_succeeded", "session_ended"] } },
      orderBy: { id: "asc" },
      select: { kind: true, details: true },
    });
    // The third and fourth sign-ins each ended one session, in the transaction that stored their own.
    const passkeyLogin = { kind: "login_succeeded", details: { method: "passkey" } };
    const ended = { kind: "session_ended", details: { reason: "session_limit", count: 1 } };
    expect(events).toEqual([passkeyLogin, passkeyLogin, passkeyLogin, ended, passkeyLogin, ended]);
  });

  it("never leaves more live sessions than the limit to concurrent logins, and no ended one usable", async () => {
    const trials = 12;
    const loginsPerTrial = 10;
    let evicted = 0;
    for (let trial = 0; trial < trials; trial++) {
      const user = await signUp(server());
      const responses = await Promise.all(Array.from({ length: loginsPerTrial }, () => logIn(server(), user.account)));
      for (const response of responses) expect(response.errors).toBeUndefined();
      const live = await liveSessionIds(server(), user.id);
      expect(live).toHaveLength(3);
      const issued = [user, ...responses.map((response) => response.data!.login as Tokens)];
      for (const tokens of issued) {
        const expected = live.includes(sessionIdOf(tokens.accessToken));
        expect(await works(server(), tokens)).toEqual({ access: expected, refresh: expected });
        if (!expected) evicted++;
      }
      const events = await server().database.securityEvent.findMany({
        where: { userId: user.id, kind: "session_ended" },
      });
      expect(events.reduce((sum, event) => sum + (event.details as { count: number }).count, 0)).toBe(
        issued.length - 3,
      );
    }
    console.info(
      `session limit: ${trials} trials × ${loginsPerTrial} concurrent logins, limit 3, ${evicted} sessions ended, none usable`,
    );
    expect(evicted).toBe(trials * (loginsPerTrial + 1 - 3));
  }, 120_000);
});
