import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import { linkToken, TestMailServer, withMailServer } from "./helpers/mail.js";
import { outboxSettled } from "./helpers/outbox.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

let mail: TestMailServer;
beforeAll(async () => {
  mail = await TestMailServer.start();
});
afterAll(() => mail?.close());

describe("with REQUIRE_EMAIL_VERIFICATION=true", () => {
  const server = useTestServer({ config: withMailServer(() => mail, { REQUIRE_EMAIL_VERIFICATION: "true" }) });
  const login = (usernameOrEmail: string, password: string) =>
    server().request(mutations.login, { input: { usernameOrEmail, password } });

  it("login answers EMAIL_NOT_VERIFIED only with the right password, and works once the address is verified", async () => {
    const account = newAccount("policy");
    const registered = await server().request(mutations.register, { input: account });
    expect(registered.errors).toBeUndefined();

    expect(errorCodes(await login(account.username, account.password))).toEqual(["EMAIL_NOT_VERIFIED"]);
    // A wrong password, or no such account, looks as it always does.
    expect(errorCodes(await login(account.username, "not the password"))).toEqual(["INVALID_CREDENTIALS"]);
    expect(errorCodes(await login(`nobody-${account.username}`, account.password))).toEqual(["INVALID_CREDENTIALS"]);

    const token = linkToken(await mail.waitFor(account.email), "verify-email");
    expect((await server().request(lifecycle.verifyEmail, { token })).data).toEqual({ verifyEmail: true });
    expect((await login(account.username, account.password)).errors).toBeUndefined();
  });

  it("a password reset proves the address too: an account whose verification mail was lost gets back in", async () => {
    const account = newAccount("policy");
    await server().request(mutations.register, { input: account });
    // Mails go out side by side: the verification mail first, so that the second one is the reset's.
    await mail.waitFor(account.email);
    await server().request(lifecycle.requestPasswordReset, { email: account.email });
    const token = linkToken(await mail.waitFor(account.email, 2), "reset-password");
    const newPassword = `${account.password} reset`;
    expect((await server().request(lifecycle.resetPassword, { token, newPassword })).data).toEqual({
      resetPassword: true,
    });
    expect((await login(account.email, newPassword)).errors).toBeUndefined();
  });
});

describe("mail requests are rate-limited", () => {
  const server = useTestServer({ config: withMailServer(() => mail, { MAIL_REQUESTS_PER_HOUR: "2" }) });

  it("per address for password resets, known or unknown alike", async () => {
    const account = newAccount("limit");
    await server().request(mutations.register, { input: account });
    for (const email of [account.email, `nobody-${account.email}`]) {
      for (let attempt = 0; attempt < 2; attempt++) {
        expect((await server().request(lifecycle.requestPasswordReset, { email })).data).toEqual({
          requestPasswordReset: true,
        });
      }
      const limited = await server().request(lifecycle.requestPasswordReset, { email: email.toUpperCase() });
      expect(errorCodes(limited)).toEqual(["RATE_LIMITED"]);
      expect(limited.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
    }
    await server().app.services.passwordReset.settled();
    await outboxSettled(server());
    expect(mail.to(account.email).filter((message) => message.subject === "Reset your password")).toHaveLength(2);
  });

  it("per account for verification mails", async () => {
    const account = newAccount("limit");
    const { accessToken } = (await server().request(mutations.register, { input: account })).data!.register;
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(
        (await server().request(lifecycle.requestEmailVerification, {}, { token: accessToken })).errors,
      ).toBeUndefined();
    }
    expect(errorCodes(await server().request(lifecycle.requestEmailVerification, {}, { token: accessToken }))).toEqual([
      "RATE_LIMITED",
    ]);
  });
});

describe("deleteAccount racing logins", () => {
  const server = useTestServer({ config: withMailServer(() => mail) });

  it("leaves no session of the account usable, and every login answers a session or INVALID_CREDENTIALS (5 trials × 20 logins)", async () => {
    let loggedIn = 0;
    for (let trial = 0; trial < 5; trial++) {
      const account = newAccount("race");
      const { accessToken } = (await server().request(mutations.register, { input: account })).data!.register;
      const logins = Array.from({ length: 20 }, () =>
        server().request(mutations.login, { input: { usernameOrEmail: account.username, password: account.password } }),
      );
      const deletion = server().request(
        lifecycle.deleteAccount,
        { currentPassword: account.password },
        { token: accessToken },
      );
      const [deleted, ...answers] = await Promise.all([deletion, ...logins]);
      expect(deleted.data).toEqual({ deleteAccount: true });
      for (const answer of answers) {
        if (answer.errors) {
          expect(errorCodes(answer)).toEqual(["INVALID_CREDENTIALS"]);
          continue;
        }
        loggedIn++;
        const me = await server().request(mutations.me, {}, { token: answer.data!.login.accessToken });
        expect(errorCodes(me)).toEqual(["UNAUTHENTICATED"]);
      }
      expect(await server().database.session.count({ where: { user: { email: account.email } } })).toBe(0);
    }
    console.log(`deleteAccount vs logins: 5 trials × 20, ${loggedIn} logins succeeded, 0 usable afterwards`);
  });
});
