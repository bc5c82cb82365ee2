import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userEventTypes } from "../src/observability/events.js";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { admin, logIn, signUp, signUpAdmin, type SignedUp } from "./helpers/accounts.js";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, sessionMutations, type GraphQLResponse } from "../harness/graphql.js";
import { linkToken, TestMailServer } from "./helpers/mail.js";
import { authenticatorCode, mfaDocuments } from "./helpers/mfa.js";
import { eventTypesOf, failCommitsWriting, outboxMessagesOf, sqlOutside } from "./helpers/outbox.js";
import type { TestServer } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";
import { newWebhookSecret, WebhookReceiver } from "../harness/webhooks.js";

// Every event type, each produced by its action over HTTP: exactly one outbox row per committed
// action, none for an action that changed nothing, and none for an action that rolled back.
const secret = newWebhookSecret();
let mail: TestMailServer;
let receiver: WebhookReceiver;
beforeAll(async () => {
  [mail, receiver] = await Promise.all([TestMailServer.start(), WebhookReceiver.start(secret)]);
});
afterAll(async () => {
  await Promise.all([mail?.close(), receiver?.close()]);
});

const clock = new ManualClock();
const testServer = useTestServer({
  clock,
  config: {
    get SMTP_URL() {
      return mail.url;
    },
    get EVENT_WEBHOOK_URLS() {
      return receiver.url;
    },
    EVENT_WEBHOOK_SECRET: secret,
    MAIL_REQUESTS_PER_HOUR: "1000",
  },
});
let server: TestServer;
let root: SignedUp;
beforeAll(async () => {
  server = testServer();
  root = await signUpAdmin(server, "eventsadmin");
});

const ok = (response: GraphQLResponse) => {
  expect(response.errors).toBeUndefined();
  return response.data!;
};
const asAdmin = (query: string, variables: Record<string, unknown>) =>
  server.request(query, variables, { token: root.accessToken });
const as = (user: { accessToken: string }) => ({ token: user.accessToken });

/** The bodies of the account's events, oldest first. */
async function eventsOf(userId: string) {
  const messages = await outboxMessagesOf(server, userId);
  return messages.filter((message) => message.type !== "mail").map((message) => JSON.parse(message.body!));
}

/** Runs `action` and expects exactly the events `types` to be written for the account by it. */
async function expectEmits(userId: string, types: string[], action: () => Promise<unknown>) {
  const before = await eventTypesOf(server, userId);
  await action();
  expect((await eventTypesOf(server, userId)).slice(before.length)).toEqual(types);
}

async function verificationToken(email: string, count = 1) {
  return linkToken(await mail.waitFor(email, count), "verify-email");
}

describe("one event per committed action", () => {
  it("emits every type from its action, with the changed fields and nothing secret", async () => {
    let user!: SignedUp;
    await expectEmits(root.id, [], async () => {
      user = await signUp(server, "every");
    });
    const { id } = user;
    expect(await eventTypesOf(server, id)).toEqual(["user.registered"]);
    let password = user.account.password;

    await expectEmits(id, ["user.email_verified"], async () =>
      ok(await server.request(lifecycle.verifyEmail, { token: await verificationToken(user.account.email) })),
    );
    await expectEmits(id, ["user.username_changed"], async () =>
      ok(await server.request(lifecycle.changeUsername, { newUsername: `${user.account.username}_2` }, as(user))),
    );
    const newEmail = `moved-${user.account.email}`;
    await expectEmits(id, [], async () =>
      ok(await server.request(lifecycle.changeEmail, { newEmail, currentPassword: password }, as(user))),
    );
    await expectEmits(id, ["user.email_changed"], async () =>
      ok(await server.request(lifecycle.verifyEmail, { token: await verificationToken(newEmail) })),
    );

    await expectEmits(id, ["user.roles_changed"], async () =>
      ok(await asAdmin(admin.setUserRoles, { id, roles: ["editor"] })),
    );
    await expectEmits(id, [], async () => ok(await asAdmin(admin.setUserRoles, { id, roles: ["editor", "user"] })));
    await expectEmits(id, ["user.locked"], async () => ok(await asAdmin(admin.lockUser, { id, reason: "checking" })));
    await expectEmits(id, [], async () => ok(await asAdmin(admin.lockUser, { id })));
    await expectEmits(id, ["user.unlocked"], async () => ok(await asAdmin(admin.unlockUser, { id })));

    // Sign-ins, refreshes and the end of one session are no news to other services.
    let session = ok(await logIn(server, { ...user.account, username: newEmail, password })).login;
    await expectEmits(id, [], async () => {
      const second = ok(await logIn(server, { ...user.account, username: newEmail, password })).login;
      ok(await server.request(sessionMutations.refresh, { refreshToken: second.refreshToken }));
      ok(await server.request(sessionMutations.logout, {}, as(second)));
    });
    await expectEmits(id, ["user.sessions_revoked"], async () => {
      const changed = ok(
        await server.request(
          sessionMutations.changePassword,
          { currentPassword: password, newPassword: "another passphrase" },
          as(session),
        ),
      );
      password = "another passphrase";
      session = changed.changePassword;
    });
    await expectEmits(id, ["user.sessions_revoked"], async () =>
      ok(await server.request(sessionMutations.logoutAll, {}, as(session))),
    );
    session = ok(await logIn(server, { ...user.account, username: newEmail, password })).login;
    await expectEmits(id, ["user.sessions_revoked"], async () => ok(await asAdmin(admin.revokeUserSessions, { id })));
    await expectEmits(id, [], async () => ok(await asAdmin(admin.revokeUserSessions, { id })));

    ok(await server.request(lifecycle.requestPasswordReset, { email: newEmail }));
    const reset = linkToken(await mail.waitFor(newEmail, 2), "reset-password");
    await expectEmits(id, ["user.sessions_revoked"], async () =>
      ok(await server.request(lifecycle.resetPassword, { token: reset, newPassword: "reset passphrase" })),
    );
    password = "reset passphrase";

    session = ok(await logIn(server, { ...user.account, username: newEmail, password })).login;
    const enrolled = ok(
      await server.request(mfaDocuments.enroll, { currentPassword: password }, as(session)),
    ).enrollTotp;
    await expectEmits(id, ["user.sessions_revoked"], async () =>
      ok(
        await server.request(
          mfaDocuments.confirm,
          { code: await authenticatorCode(enrolled.secret, clock) },
          as(session),
        ),
      ),
    );
    clock.advance(30);
    await expectEmits(id, ["user.sessions_revoked"], async () =>
      ok(
        await server.request(
          mfaDocuments.disable,
          { currentPassword: password, code: await authenticatorCode(enrolled.secret, clock) },
          as(session),
        ),
      ),
    );
    await expectEmits(id, ["user.deleted"], async () =>
      ok(await server.request(lifecycle.deleteAccount, { currentPassword: password }, as(session))),
    );

    const events = await eventsOf(id);
    expect(new Set(events.map((event) => event.type))).toEqual(new Set(userEventTypes));
    expect(events.map((event) => [event.type, event.data])).toEqual([
      [
        "user.registered",
        { username: user.account.username, email: user.account.email, createdAt: expect.any(String) },
      ],
      ["user.email_verified", { email: user.account.email }],
      ["user.username_changed", { username: `${user.account.username}_2` }],
      ["user.email_changed", { email: newEmail }],
      ["user.roles_changed", { roles: ["user", "editor"], added: ["editor"], removed: [] }],
      ["user.locked", { lockedAt: expect.any(String) }],
      ["user.unlocked", { lockedAt: null }],
      ["user.sessions_revoked", { reason: "password_changed" }],
      ["user.sessions_revoked", { reason: "logout_all" }],
      ["user.sessions_revoked", { reason: "revoked_by_admin" }],
      ["user.sessions_revoked", { reason: "password_reset" }],
      ["user.sessions_revoked", { reason: "mfa_enabled" }],
      ["user.sessions_revoked", { reason: "mfa_disabled" }],
      ["user.deleted", {}],
    ]);
    for (const event of events) {
      expect(Object.keys(event).sort()).toEqual(["data", "id", "timestamp", "type", "userId"]);
      expect(event).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        userId: id,
        timestamp: expect.stringMatching(/Z$/),
      });
    }
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    const stored = JSON.stringify(await outboxMessagesOf(server, id));
    for (const secretValue of [
      user.account.password,
      "another passphrase",
      password,
      reset,
      enrolled.secret,
      session.refreshToken,
    ]) {
      expect(stored).not.toContain(secretValue);
    }
  });

  it("emits roles_changed from grant-admin too", async () => {
    const user = await signUp(server, "granted");
    await expectEmits(user.id, ["user.roles_changed"], async () => {
      const { grantAdmin } = await import("../src/admin/bootstrap.js");
      expect(await grantAdmin(server.database, server.app.services.audit, user.account.email, "test")).toBe("granted");
    });
    const [, granted] = await eventsOf(user.id);
    expect(granted.data).toEqual({ roles: ["user", "admin"], added: ["admin"], removed: [] });
  });
});

describe("an action that does not commit", () => {
  it("leaves no event, and the action is not done, for each type", async () => {
    const user = await signUp(server, "rollback");
    const { id } = user;
    const fails = (response: GraphQLResponse) => expect(errorCodes(response)).toEqual(["INTERNAL_SERVER_ERROR"]);
    const state = () =>
      server.database.user.findUnique({
        where: { id },
        select: { username: true, email: true, roles: true, lockedAt: true, emailVerifiedAt: true },
      });
    const before = await state();
    const eventsBefore = await eventTypesOf(server, id);

    const attempts: [string, () => Promise<void>][] = [
      [
        "user.registered",
        async () => {
          const account = {
            email: `never-${user.account.email}`,
            username: `never${user.account.username}`.slice(0, 30),
            password: "a fine passphrase",
          };
          fails(
            await server.request(`mutation($input: RegisterInput!) { register(input: $input) { accessToken } }`, {
              input: account,
            }),
          );
          expect(await server.database.user.count({ where: { email: account.email } })).toBe(0);
        },
      ],
      [
        "user.email_verified",
        async () =>
          fails(await server.request(lifecycle.verifyEmail, { token: await verificationToken(user.account.email) })),
      ],
      [
        "user.username_changed",
        async () =>
          fails(
            await server.request(lifecycle.changeUsername, { newUsername: `${user.account.username}_x` }, as(user)),
          ),
      ],
      ["user.roles_changed", async () => fails(await asAdmin(admin.setUserRoles, { id, roles: ["editor"] }))],
      ["user.locked", async () => fails(await asAdmin(admin.lockUser, { id }))],
      // (The revocation store, which no rollback reaches, is told last before the commit: each attempt signs in anew.)
      [
        "user.sessions_revoked",
        async () =>
          fails(await server.request(sessionMutations.logoutAll, {}, as(ok(await logIn(server, user.account)).login))),
      ],
      [
        "user.deleted",
        async () => {
          const session = ok(await logIn(server, user.account)).login;
          fails(await server.request(lifecycle.deleteAccount, { currentPassword: user.account.password }, as(session)));
        },
      ],
    ];
    for (const [type, attempt] of attempts) await failCommitsWriting(server, type, attempt);

    expect(await state()).toEqual(before);
    expect(await eventTypesOf(server, id)).toEqual(eventsBefore);
    // No session ended: logoutAll and deleteAccount did not happen.
    expect(await server.database.session.count({ where: { userId: id, revokedAt: { not: null } } })).toBe(0);
    const kinds = (await server.database.securityEvent.findMany({ where: { userId: id }, select: { kind: true } })).map(
      (event) => event.kind,
    );
    expect(kinds).toEqual(["registered", "login_succeeded", "login_succeeded"]);
  });

  it("fails the action when its event cannot be written", async () => {
    const user = await signUp(server, "refused");
    await sqlOutside(
      server,
      `CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox unavailable'; END; $$`,
    );
    await sqlOutside(
      server,
      `CREATE TRIGGER refuse_events BEFORE INSERT ON outbox_messages FOR EACH ROW WHEN (NEW.type = 'user.locked') EXECUTE FUNCTION refuse_events()`,
    );
    try {
      const refused = await asAdmin(admin.lockUser, { id: user.id });
      expect(errorCodes(refused)).toEqual(["INTERNAL_SERVER_ERROR"]);
      expect(JSON.stringify(refused)).not.toContain("outbox unavailable");
    } finally {
      await sqlOutside(server, "DROP TRIGGER IF EXISTS refuse_events ON outbox_messages");
      await sqlOutside(server, "DROP FUNCTION IF EXISTS refuse_events()");
    }
    expect((await server.database.user.findUniqueOrThrow({ where: { id: user.id } })).lockedAt).toBeNull();
    expect(await eventTypesOf(server, user.id)).toEqual(["user.registered"]);
  });
});

describe("concurrent actions", () => {
  it("lose and repeat no event: one per change that happened", async () => {
    for (let trial = 0; trial < 5; trial++) {
      const user = await signUp(server, "race");
      const responses = await Promise.all([
        ...Array.from({ length: 4 }, () => asAdmin(admin.lockUser, { id: user.id })),
        ...Array.from({ length: 4 }, () => asAdmin(admin.setUserRoles, { id: user.id, roles: ["editor"] })),
        ...Array.from({ length: 4 }, (_, index) =>
          server.request(lifecycle.changeUsername, { newUsername: `${user.account.username}_${index}` }, as(user)),
        ),
      ]);
      const renamed = responses.slice(8).filter((response) => !response.errors).length;
      const types = await eventTypesOf(server, user.id);
      const count = (type: string) => types.filter((candidate) => candidate === type).length;
      expect(count("user.locked")).toBe(1);
      expect(count("user.roles_changed")).toBe(1);
      expect(count("user.username_changed")).toBe(renamed);
      // The last rename event names the username the account has now.
      const last = (await eventsOf(user.id)).filter((event) => event.type === "user.username_changed").at(-1);
      const stored = await server.database.user.findUniqueOrThrow({ where: { id: user.id } });
      if (renamed > 0) expect(last.data.username).toBe(stored.username);
    }
  });
});
