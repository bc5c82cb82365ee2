import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { admin, logIn, signUp, signUpAdmin, type SignedUp } from "./helpers/accounts.js";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, mutations, sessionMutations, type GraphQLResponse } from "../harness/graphql.js";
import { linkToken, TestMailServer } from "./helpers/mail.js";
import { authenticatorCode, mfaDocuments } from "./helpers/mfa.js";
import type { TestServer } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

// Every action the audit log covers, each taken over HTTP once: exactly one event of the right
// kind, with the right actor and client; and races that must neither lose nor repeat one.
let mail: TestMailServer;
beforeAll(async () => {
  mail = await TestMailServer.start();
});
afterAll(() => mail?.close());

const clock = new ManualClock();
// The in-process store keeps time by the same clock, so login windows end when the clock says so.
const testServer = useTestServer({
  store: "memory",
  clock,
  loginLimits: { failuresPerClient: 3 },
  config: {
    get SMTP_URL() {
      return mail.url;
    },
    APP_URL: "https://app.example.com",
  },
});
let server: TestServer;
let root: SignedUp;
beforeAll(async () => {
  server = testServer();
  root = await signUpAdmin(server, "auditadmin");
});

interface Event {
  kind: string;
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** The account's events, oldest first, as an admin reads them (refreshing the admin's token once the clock has moved past it). */
async function eventsOf(userId: string): Promise<Event[]> {
  const read = () => server.request(admin.userSecurityEvents, { userId, first: 100 }, { token: root.accessToken });
  let response = await read();
  if (errorCodes(response).join() === "UNAUTHENTICATED") {
    const refreshed = ok(
      await server.request(sessionMutations.refresh, { refreshToken: root.refreshToken }),
    ).refreshSession;
    Object.assign(root, { accessToken: refreshed.accessToken, refreshToken: refreshed.refreshToken });
    response = await read();
  }
  expect(response.errors).toBeUndefined();
  return response.data!.userSecurityEvents.edges.map((edge: { node: Event }) => edge.node).reverse();
}

const sessionOf = (accessToken: string) =>
  JSON.parse(Buffer.from(accessToken.split(".")[1]!, "base64url").toString()).sid as string;

const ok = (response: GraphQLResponse) => {
  expect(response.errors).toBeUndefined();
  return response.data!;
};

describe("one event per action", () => {
  it("records every self-service action once, with its kind, actor and client", async () => {
    const agent = { "user-agent": "audit-client/2.0" };
    const as = (token: string) => ({ token, headers: agent });
    const user = await signUp(server, "every", agent);
    const { id } = user;
    const seen: { kind: string; actor: string | null }[] = [{ kind: "registered", actor: id }];
    const expectEvents = async () => {
      const events = await eventsOf(id);
      expect(events.map((event) => ({ kind: event.kind, actor: event.actorId }))).toEqual(seen);
      for (const event of events) expect(event).toMatchObject({ ip: "127.0.0.1", userAgent: agent["user-agent"] });
    };
    await expectEvents();

    // Verification link from registration.
    ok(
      await server.request(
        lifecycle.verifyEmail,
        { token: linkToken(await mail.waitFor(user.account.email), "verify-email") },
        { headers: agent },
      ),
    );
    seen.push({ kind: "email_verified", actor: null });

    // Logins: right, wrong, and past the limit (three failures per client here): one event when the lockout starts.
    const login = ok(await logIn(server, user.account, agent)).login;
    seen.push({ kind: "login_succeeded", actor: id });
    for (let attempt = 0; attempt < 5; attempt++)
      await logIn(server, { ...user.account, password: "wrong password!" }, agent);
    seen.push(...Array.from({ length: 3 }, () => ({ kind: "login_failed", actor: null })), {
      kind: "login_rate_limited",
      actor: null,
    });
    await expectEvents();
    clock.advance(15 * 60 + 1); // the window ends; access tokens are renewed by refresh below
    const renewed = ok(
      await server.request(sessionMutations.refresh, { refreshToken: login.refreshToken }, { headers: agent }),
    ).refreshSession;
    const second = ok(await logIn(server, user.account, agent)).login;
    seen.push({ kind: "login_succeeded", actor: id });

    // Ending sessions: one of them by id, then the presented one; a repeat ends nothing and records nothing.
    const other = sessionOf(renewed.accessToken);
    expect(
      ok(await server.request(sessionMutations.revokeSession, { id: other }, as(second.accessToken))).revokeSession,
    ).toBe(true);
    expect(
      ok(await server.request(sessionMutations.revokeSession, { id: other }, as(second.accessToken))).revokeSession,
    ).toBe(false);
    seen.push({ kind: "session_ended", actor: id });
    expect(errorCodes(await server.request(mutations.me, {}, { token: renewed.accessToken }))).toEqual([
      "UNAUTHENTICATED",
    ]);

    // A password change (ends every session: still one event).
    const changed = ok(
      await server.request(
        sessionMutations.changePassword,
        { currentPassword: user.account.password, newPassword: "a brand new passphrase" },
        as(second.accessToken),
      ),
    ).changePassword;
    seen.push({ kind: "password_changed", actor: id });
    let password = "a brand new passphrase";

    // Second factor on, then off.
    const enrolled = ok(
      await server.request(mfaDocuments.enroll, { currentPassword: password }, as(changed.accessToken)),
    ).enrollTotp;
    ok(
      await server.request(
        mfaDocuments.confirm,
        { code: await authenticatorCode(enrolled.secret, clock) },
        as(changed.accessToken),
      ),
    );
    seen.push({ kind: "mfa_enabled", actor: id });
    clock.advance(30);
    ok(
      await server.request(
        mfaDocuments.disable,
        { currentPassword: password, code: await authenticatorCode(enrolled.secret, clock) },
        as(changed.accessToken),
      ),
    );
    seen.push({ kind: "mfa_disabled", actor: id });

    // A new address, confirmed by its link.
    const newEmail = `moved-${user.account.email}`;
    ok(await server.request(lifecycle.changeEmail, { newEmail, currentPassword: password }, as(changed.accessToken)));
    ok(
      await server.request(
        lifecycle.verifyEmail,
        { token: linkToken(await mail.waitFor(newEmail), "verify-email") },
        { headers: agent },
      ),
    );
    seen.push({ kind: "email_changed", actor: null });

    // A reset by link (no one signed in), then logout and logoutAll.
    ok(await server.request(lifecycle.requestPasswordReset, { email: newEmail }, { headers: agent }));
    const resetToken = linkToken(await mail.waitFor(newEmail, 2), "reset-password");
    password = "reset to something else";
    ok(await server.request(lifecycle.resetPassword, { token: resetToken, newPassword: password }, { headers: agent }));
    seen.push({ kind: "password_reset", actor: null });
    const third = ok(await logIn(server, { ...user.account, password }, agent)).login;
    const fourth = ok(await logIn(server, { ...user.account, password }, agent)).login;
    seen.push({ kind: "login_succeeded", actor: id }, { kind: "login_succeeded", actor: id });
    expect(ok(await server.request(sessionMutations.logout, {}, as(third.accessToken))).logout).toBe(true);
    expect(ok(await server.request(sessionMutations.logoutAll, {}, as(fourth.accessToken))).logoutAll).toBe(true);
    seen.push({ kind: "session_ended", actor: id }, { kind: "session_ended", actor: id });

    // A reused refresh token ends its session: no actor (it may be the thief).
    const fifth = ok(await logIn(server, { ...user.account, password }, agent)).login;
    seen.push({ kind: "login_succeeded", actor: id });
    ok(await server.request(sessionMutations.refresh, { refreshToken: fifth.refreshToken }, { headers: agent }));
    clock.advance(60); // past the reuse interval
    expect(
      errorCodes(
        await server.request(sessionMutations.refresh, { refreshToken: fifth.refreshToken }, { headers: agent }),
      ),
    ).toEqual(["REFRESH_TOKEN_REUSED"]);
    seen.push({ kind: "refresh_token_reused", actor: null });
    await expectEvents();

    // Deleting the account: its history stays readable to admins.
    const last = ok(await logIn(server, { ...user.account, password }, agent)).login;
    seen.push({ kind: "login_succeeded", actor: id });
    ok(await server.request(lifecycle.deleteAccount, { currentPassword: password }, as(last.accessToken)));
    seen.push({ kind: "deleted", actor: id });
    await expectEvents();
    // No secret in any of it.
    const stored = JSON.stringify(
      await server.database.securityEvent.findMany({
        where: { userId: id },
        select: { details: true, userAgent: true, ip: true, kind: true },
      }),
    );
    for (const secret of [user.account.password, password, resetToken, enrolled.secret, fifth.refreshToken])
      expect(stored).not.toContain(secret);
  });
});

describe("concurrent actions", () => {
  it("record one session_ended for racing logouts of one session, and one refresh_token_reused for racing reuses", async () => {
    for (let trial = 0; trial < 5; trial++) {
      const user = await signUp(server, "race");
      const logouts = await Promise.all(
        Array.from({ length: 6 }, () => server.request(sessionMutations.logout, {}, { token: user.accessToken })),
      );
      // Each answers true (it ended the session) or, once it has ended, UNAUTHENTICATED / false.
      const ended = logouts.filter((response) => response.data?.logout === true).length;
      expect(ended).toBe(1);

      const session = ok(await logIn(server, user.account)).login;
      ok(
        await server.request(
          sessionMutations.refresh,
          { refreshToken: session.refreshToken },
          { headers: { "user-agent": "first" } },
        ),
      );
      const reuses = await Promise.all(
        Array.from({ length: 6 }, () =>
          server.request(
            sessionMutations.refresh,
            { refreshToken: session.refreshToken },
            { headers: { "user-agent": "thief" } },
          ),
        ),
      );
      for (const reuse of reuses) expect(errorCodes(reuse)).toEqual(["REFRESH_TOKEN_REUSED"]);

      const kinds = (await eventsOf(user.id)).map((event) => event.kind);
      expect(kinds).toEqual(["registered", "session_ended", "login_succeeded", "refresh_token_reused"]);
    }
  });
});

describe("a locked account with a second factor", () => {
  it("answers ACCOUNT_LOCKED to the right password before any code, and to a login completed after the lock", async () => {
    const user = await signUp(server, "mfalock");
    const enrolled = ok(
      await server.request(
        mfaDocuments.enroll,
        { currentPassword: user.account.password },
        { token: user.accessToken },
      ),
    ).enrollTotp;
    ok(
      await server.request(
        mfaDocuments.confirm,
        { code: await authenticatorCode(enrolled.secret, clock) },
        { token: user.accessToken },
      ),
    );
    clock.advance(30);

    const started = await logIn(server, user.account);
    expect(errorCodes(started)).toEqual(["MFA_REQUIRED"]);
    const mfaToken = started.errors![0]!.extensions!.mfaToken as string;
    const wrong = (await authenticatorCode(enrolled.secret, clock)) === "000000" ? "111111" : "000000";
    expect(errorCodes(await server.request(mfaDocuments.complete, { mfaToken, code: wrong }))).toEqual([
      "INVALID_MFA_CODE",
    ]);

    await eventsOf(user.id); // renews the admin's token if the clock has moved past it
    ok(await server.request(admin.lockUser, { id: user.id }, { token: root.accessToken }));
    const completed = await server.request(mfaDocuments.complete, {
      mfaToken,
      code: await authenticatorCode(enrolled.secret, clock),
    });
    expect(errorCodes(completed)).toEqual(["ACCOUNT_LOCKED"]);
    expect(errorCodes(await logIn(server, user.account))).toEqual(["ACCOUNT_LOCKED"]);
    expect(await server.database.session.count({ where: { userId: user.id, revokedAt: null } })).toBe(0);

    const events = await server.database.securityEvent.findMany({
      where: { userId: user.id },
      orderBy: { id: "asc" },
      select: { kind: true, details: true },
    });
    expect(events).toEqual([
      { kind: "registered", details: null },
      { kind: "mfa_enabled", details: null },
      { kind: "login_failed", details: { reason: "mfa_code" } },
      { kind: "locked", details: null },
      { kind: "login_failed", details: { reason: "locked" } },
      { kind: "login_failed", details: { reason: "locked" } },
    ]);
  });
});
