import { afterAll, beforeAll, expect, it } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { logIn, signUp } from "./helpers/accounts.js";
import { errorCodes, sessionMutations } from "../harness/graphql.js";
import { linkToken, TestMailServer, withMailServer } from "./helpers/mail.js";
import { mfaDocuments } from "./helpers/mfa.js";
import { deliveredMail } from "./helpers/outbox.js";
import { useTestServer } from "./helpers/test-server.js";

// An account made by signing in with an identity provider has no password (`password_hash` is
// null): no password whatever signs in to it, and where a current password is asked the owner is
// told to set one through a reset link.
let mail: TestMailServer;
beforeAll(async () => {
  mail = await TestMailServer.start();
});
afterAll(() => mail?.close());

const server = useTestServer({ config: withMailServer(() => mail, { APP_URL: "https://app.example.com" }) });

async function accountWithoutPassword() {
  const user = await signUp(server(), "nopass");
  await server().database.user.update({ where: { id: user.id }, data: { passwordHash: null } });
  return user;
}

it("signs in with no password at all: not the one it had, not an empty one, not anything", async () => {
  const user = await accountWithoutPassword();
  const guesses = [user.account.password, "", " ", "null", "undefined", "$argon2id$", "correct horse battery staple"];
  for (const password of guesses) {
    for (const usernameOrEmail of [user.account.username, user.account.email]) {
      const response = await logIn(server(), { username: usernameOrEmail, password });
      expect(response.data?.login ?? null).toBeNull();
      expect(errorCodes(response)).toEqual(["INVALID_CREDENTIALS"]);
    }
  }
  expect(await server().database.session.count({ where: { userId: user.id, revokedAt: null } })).toBe(1);
});

it("answers PASSWORD_NOT_SET wherever a current password is asked, and changes nothing", async () => {
  const user = await accountWithoutPassword();
  const asked = [
    {
      query: sessionMutations.changePassword,
      variables: { currentPassword: "anything at all", newPassword: "a new long passphrase" },
    },
    {
      query: lifecycle.changeEmail,
      variables: { currentPassword: "anything at all", newEmail: `other-${user.account.email}` },
    },
    { query: lifecycle.deleteAccount, variables: { currentPassword: "anything at all" } },
    { query: mfaDocuments.enroll, variables: { currentPassword: "anything at all" } },
    { query: mfaDocuments.disable, variables: { currentPassword: "anything at all", code: "123456" } },
  ];
  for (const { query, variables } of asked) {
    const response = await server().request(query, variables, { token: user.accessToken });
    expect(errorCodes(response)).toEqual(["PASSWORD_NOT_SET"]);
    expect(response.errors![0]!.extensions!.field).toBe("currentPassword");
  }
  const stored = await server().database.user.findUniqueOrThrow({
    where: { id: user.id },
    include: { totpFactor: true },
  });
  expect(stored).toMatchObject({ email: user.account.email, passwordHash: null, totpFactor: null });
});

it("gets a password through the reset link, and signs in with it", async () => {
  const user = await accountWithoutPassword();
  expect(errorCodes(await server().request(lifecycle.requestPasswordReset, { email: user.account.email }))).toEqual([]);
  await server().app.services.passwordReset.settled();
  const token = linkToken(
    await deliveredMail(server(), mail, user.account.email, "Reset your password"),
    "reset-password",
  );
  const newPassword = "a password of my own";
  expect((await server().request(lifecycle.resetPassword, { token, newPassword })).data).toEqual({
    resetPassword: true,
  });
  const login = await logIn(server(), { username: user.account.username, password: newPassword });
  expect(login.errors).toBeUndefined();
  expect(login.data!.login.user.id).toBe(user.id);
});
