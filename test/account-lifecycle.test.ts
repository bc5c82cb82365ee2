import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { errorCodes, mutations, sessionMutations } from "../harness/graphql.js";
import { linkToken, TestMailServer, withMailServer } from "./helpers/mail.js";
import { outboxSettled } from "./helpers/outbox.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

const appUrl = "https://app.example.com";
let mail: TestMailServer;
beforeAll(async () => {
  mail = await TestMailServer.start();
});
afterAll(() => mail?.close());

const server = useTestServer({
  config: withMailServer(() => mail, { APP_URL: appUrl, MAIL_FROM: "Example App <accounts@example.com>" }),
});

async function register() {
  const account = newAccount("life");
  const response = await server().request(mutations.register, { input: account });
  expect(response.errors).toBeUndefined();
  return { account, session: response.data!.register };
}

const login = (usernameOrEmail: string, password: string) =>
  server().request(mutations.login, { input: { usernameOrEmail, password } });

describe("e-mail verification", () => {
  it("register mails a verification link to the app's /verify-email page; following it verifies the address", async () => {
    const { account, session } = await register();
    const received = await mail.waitFor(account.email);
    expect(received.from).toBe('"Example App" <accounts@example.com>');
    expect(received.subject).toBe("Confirm your e-mail address");
    expect(received.text).toContain(`${appUrl}/verify-email?token=`);
    expect(received.html).toContain(`href="${appUrl}/verify-email?token=`);
    const token = linkToken(received, "verify-email");
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits

    const before = await server().request(lifecycle.meVerified, {}, { token: session.accessToken });
    expect(before.data!.me.emailVerified).toBe(false);
    // Only its hash is stored.
    const stored = await server().database.accountToken.findMany({ where: { userId: session.user.id } });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.tokenHash).not.toContain(token);

    const verified = await server().request(lifecycle.verifyEmail, { token });
    expect(verified).toMatchObject({ data: { verifyEmail: true } });
    const after = await server().request(lifecycle.meVerified, {}, { token: session.accessToken });
    expect(after.data!.me.emailVerified).toBe(true);
  });

  it("shows emailVerified to the owner only: anyone else gets null and FORBIDDEN", async () => {
    const { session: owner } = await register();
    const { session: stranger } = await register();
    const query = `query($id: ID!) { user(id: $id) { id emailVerified } }`;
    for (const token of [stranger.accessToken, undefined]) {
      const response = await server().request(query, { id: owner.user.id }, { token });
      expect(response.data!.user).toEqual({ id: owner.user.id, emailVerified: null });
      expect(errorCodes(response)).toEqual(["FORBIDDEN"]);
    }
    const own = await server().request(query, { id: owner.user.id }, { token: owner.accessToken });
    expect(own.data!.user.emailVerified).toBe(false);
  });

  it("requestEmailVerification mails a new link that replaces the first", async () => {
    const { account, session } = await register();
    const first = linkToken(await mail.waitFor(account.email, 1), "verify-email");
    const resent = await server().request(lifecycle.requestEmailVerification, {}, { token: session.accessToken });
    expect(resent).toMatchObject({ data: { requestEmailVerification: true } });
    const second = linkToken(await mail.waitFor(account.email, 2), "verify-email");
    expect(errorCodes(await server().request(lifecycle.verifyEmail, { token: first }))).toEqual(["INVALID_TOKEN"]);
    expect((await server().request(lifecycle.verifyEmail, { token: second })).data).toEqual({ verifyEmail: true });
    const unauthenticated = await server().request(lifecycle.requestEmailVerification);
    expect(errorCodes(unauthenticated)).toEqual(["UNAUTHENTICATED"]);
  });
});

describe("password reset", () => {
  it("mails a link to /reset-password; the new password works, the old one and every old token do not", async () => {
    const { account, session } = await register();
    const other = (await login(account.username, account.password)).data!.login;
    const requested = await server().request(lifecycle.requestPasswordReset, { email: account.email.toUpperCase() });
    expect(requested).toMatchObject({ data: { requestPasswordReset: true } });
    const received = await mail.waitFor(account.email, 2);
    expect(received.subject).toBe("Reset your password");
    const token = linkToken(received, "reset-password");

    const newPassword = `${account.password} renewed`;
    const weak = await server().request(lifecycle.resetPassword, { token, newPassword: "password" });
    expect(errorCodes(weak)).toEqual(["WEAK_PASSWORD"]);
    expect(weak.errors![0]!.extensions!.field).toBe("newPassword");

    const reset = await server().request(lifecycle.resetPassword, { token, newPassword });
    expect(reset).toMatchObject({ data: { resetPassword: true } });

    for (const { accessToken, refreshToken } of [session, other]) {
      expect(errorCodes(await server().request(mutations.me, {}, { token: accessToken }))).toEqual(["UNAUTHENTICATED"]);
      expect(errorCodes(await server().request(sessionMutations.refresh, { refreshToken }))).toEqual([
        "INVALID_REFRESH_TOKEN",
      ]);
    }
    expect(errorCodes(await login(account.username, account.password))).toEqual(["INVALID_CREDENTIALS"]);
    const fresh = await login(account.username, newPassword);
    expect(fresh.errors).toBeUndefined();
    // The link proved the address; the owner is told by mail.
    const me = await server().request(lifecycle.meVerified, {}, { token: fresh.data!.login.accessToken });
    expect(me.data!.me.emailVerified).toBe(true);
    const notice = await mail.waitFor(account.email, 3);
    expect(notice.subject).toBe("Your password was changed");
    expect(
      errorCodes(await server().request(lifecycle.resetPassword, { token, newPassword: `${newPassword} again` })),
    ).toEqual(["INVALID_TOKEN"]);
  });

  it("answers true for an unknown address and sends nothing", async () => {
    const unknown = `nobody-${newAccount().email}`;
    // Mail goes out after its operation: what earlier tests queued is delivered before counting.
    await outboxSettled(server());
    const before = mail.received.length;
    const response = await server().request(lifecycle.requestPasswordReset, { email: unknown });
    expect(response).toMatchObject({ data: { requestPasswordReset: true } });
    await server().app.services.passwordReset.settled();
    await outboxSettled(server());
    expect(mail.received.length).toBe(before);
    expect(mail.to(unknown)).toEqual([]);
  });
});

describe("changing the username", () => {
  it("renames the account; a name someone has is USERNAME_TAKEN", async () => {
    const { account, session } = await register();
    const { account: other } = await register();
    const renamed = await server().request(
      lifecycle.changeUsername,
      { newUsername: `${account.username}_New` },
      { token: session.accessToken },
    );
    expect(renamed.data!.changeUsername).toMatchObject({
      id: session.user.id,
      username: `${account.username}_New`,
      email: account.email,
    });
    expect((await login(`${account.username}_new`, account.password)).errors).toBeUndefined();

    const taken = await server().request(
      lifecycle.changeUsername,
      { newUsername: other.username.toUpperCase() },
      { token: session.accessToken },
    );
    expect(errorCodes(taken)).toEqual(["USERNAME_TAKEN"]);
    expect(taken.errors![0]!.extensions!.field).toBe("newUsername");
    const malformed = await server().request(
      lifecycle.changeUsername,
      { newUsername: "a b" },
      { token: session.accessToken },
    );
    expect(errorCodes(malformed)).toEqual(["BAD_USER_INPUT"]);
    expect(malformed.errors![0]!.extensions!.field).toBe("newUsername");
  });
});

describe("changing the e-mail address", () => {
  it("mails the new address a link and the old one a notice; the address changes when the link is followed", async () => {
    const { account, session } = await register();
    const newEmail = `new-${account.email}`;
    const wrong = await server().request(
      lifecycle.changeEmail,
      { newEmail, currentPassword: "not the password" },
      { token: session.accessToken },
    );
    expect(errorCodes(wrong)).toEqual(["INVALID_CREDENTIALS"]);

    const changed = await server().request(
      lifecycle.changeEmail,
      { newEmail, currentPassword: account.password },
      { token: session.accessToken },
    );
    expect(changed).toMatchObject({ data: { changeEmail: true } });
    const confirmation = await mail.waitFor(newEmail);
    expect(confirmation.subject).toBe("Confirm your new e-mail address");
    const notice = await mail.waitFor(account.email, 2);
    expect(notice.subject).toBe("Your e-mail address is about to change");
    expect(notice.text).toContain(newEmail);
    expect(linkToken.bind(null, notice, "verify-email")).toThrow();

    // Nothing changes until the link is followed.
    expect((await login(account.email, account.password)).errors).toBeUndefined();
    const verified = await server().request(lifecycle.verifyEmail, { token: linkToken(confirmation, "verify-email") });
    expect(verified).toMatchObject({ data: { verifyEmail: true } });

    expect(errorCodes(await login(account.email, account.password))).toEqual(["INVALID_CREDENTIALS"]);
    const byNew = await login(newEmail, account.password);
    expect(byNew.errors).toBeUndefined();
    const me = await server().request(lifecycle.meVerified, {}, { token: byNew.data!.login.accessToken });
    expect(me.data!.me).toMatchObject({ email: newEmail, emailVerified: true });
    // The old address is free again.
    expect(
      (await server().request(mutations.register, { input: { ...newAccount("life"), email: account.email } })).errors,
    ).toBeUndefined();
  });

  it("answers an address another account has as a free one; a link whose address was registered meanwhile is EMAIL_TAKEN", async () => {
    const { account, session } = await register();
    const { account: other } = await register();
    const taken = await server().request(
      lifecycle.changeEmail,
      { newEmail: other.email, currentPassword: account.password },
      { token: session.accessToken },
    );
    expect(taken).toMatchObject({ data: { changeEmail: true } });
    expect(taken.errors).toBeUndefined();
    expect((await mail.waitFor(other.email, 2)).subject).toBe("Someone tried to use your e-mail address");

    const wanted = `wanted-${account.email}`;
    await server().request(
      lifecycle.changeEmail,
      { newEmail: wanted, currentPassword: account.password },
      { token: session.accessToken },
    );
    const token = linkToken(await mail.waitFor(wanted), "verify-email");
    // Someone registers the address before the link is followed.
    expect(
      (await server().request(mutations.register, { input: { ...newAccount("life"), email: wanted } })).errors,
    ).toBeUndefined();
    expect(errorCodes(await server().request(lifecycle.verifyEmail, { token }))).toEqual(["EMAIL_TAKEN"]);
    expect((await login(account.email, account.password)).errors).toBeUndefined();
  });
});

describe("deleting the account", () => {
  it("removes the account and its tokens; the entity resolves null and the address registers again", async () => {
    const { account, session } = await register();
    const other = (await login(account.username, account.password)).data!.login;
    const wrong = await server().request(
      lifecycle.deleteAccount,
      { currentPassword: "not the password" },
      { token: session.accessToken },
    );
    expect(errorCodes(wrong)).toEqual(["INVALID_CREDENTIALS"]);

    const deleted = await server().request(
      lifecycle.deleteAccount,
      { currentPassword: account.password },
      { token: session.accessToken },
    );
    expect(deleted).toMatchObject({ data: { deleteAccount: true } });

    const user = await server().request(`query($id: ID!) { user(id: $id) { id } }`, { id: session.user.id });
    expect(user).toMatchObject({ data: { user: null } });
    const entities = await server().request(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id username } } }`,
      {
        r: [{ __typename: "User", id: session.user.id }],
      },
    );
    expect(entities.errors).toBeUndefined();
    expect(entities.data!._entities).toEqual([null]);
    for (const { accessToken, refreshToken } of [session, other]) {
      expect(errorCodes(await server().request(mutations.me, {}, { token: accessToken }))).toEqual(["UNAUTHENTICATED"]);
      expect(errorCodes(await server().request(sessionMutations.refresh, { refreshToken }))).toEqual([
        "INVALID_REFRESH_TOKEN",
      ]);
    }
    expect(errorCodes(await login(account.username, account.password))).toEqual(["INVALID_CREDENTIALS"]);
    // Nothing names it any more.
    const { database } = server();
    expect(await database.session.count({ where: { userId: session.user.id } })).toBe(0);
    expect(await database.accountToken.count({ where: { userId: session.user.id } })).toBe(0);

    const again = await server().request(mutations.register, { input: account });
    expect(again.errors).toBeUndefined();
    expect(again.data!.register.user.id).not.toBe(session.user.id);
  });
});
