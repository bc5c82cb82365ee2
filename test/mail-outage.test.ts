import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import { capturedLogger } from "./helpers/log.js";
import { linkToken, TestMailServer, withMailServer } from "./helpers/mail.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

const { logger, lines: logLines } = capturedLogger();

let mail: TestMailServer;
let mailPort: number;
beforeAll(async () => {
  mail = await TestMailServer.start();
  mailPort = mail.port;
});
afterAll(() => mail?.close());

const server = useTestServer({
  logger,
  config: withMailServer(() => mail, { SMTP_TIMEOUT: "2s", MAIL_REQUESTS_PER_HOUR: "100" }),
});

async function register() {
  const account = newAccount("outage");
  const session = (await server().request(mutations.register, { input: account })).data!.register;
  const verification = linkToken(await mail.waitFor(account.email), "verify-email");
  return { account, session, verification };
}

const linksOf = (userId: string) => server().database.accountToken.count({ where: { userId } });

describe("when the mail server is down", () => {
  it("register answers SERVICE_UNAVAILABLE and creates no account; once it is back, the same registration works", async () => {
    await mail.close();
    const account = newAccount("outage");
    const refused = await server().request(mutations.register, { input: account });
    expect(errorCodes(refused)).toEqual(["SERVICE_UNAVAILABLE"]);
    expect(JSON.stringify(refused)).not.toMatch(/ECONNREFUSED|smtp|stack/i);
    expect(await server().database.user.count({ where: { email: account.email } })).toBe(0);

    mail = await TestMailServer.start({ port: mailPort });
    const registered = await server().request(mutations.register, { input: account });
    expect(registered.errors).toBeUndefined();
    expect((await mail.waitFor(account.email)).subject).toBe("Confirm your e-mail address");
  });
});

describe("when the mail server refuses the message", () => {
  it("requestEmailVerification and changeEmail answer SERVICE_UNAVAILABLE; the refused links do not work, the earlier one does", async () => {
    const { account, session, verification } = await register();
    mail.refuse = true;
    try {
      const resend = await server().request(lifecycle.requestEmailVerification, {}, { token: session.accessToken });
      expect(errorCodes(resend)).toEqual(["SERVICE_UNAVAILABLE"]);
      const change = await server().request(
        lifecycle.changeEmail,
        { newEmail: `other-${account.email}`, currentPassword: account.password },
        { token: session.accessToken },
      );
      expect(errorCodes(change)).toEqual(["SERVICE_UNAVAILABLE"]);
    } finally {
      mail.refuse = false;
    }
    // The server saw both messages before refusing them: their links were never stored.
    const refusedLinks = mail.refused.filter((message) => message.to.some((to) => to.endsWith(account.email)));
    expect(refusedLinks).toHaveLength(2);
    for (const message of refusedLinks) {
      expect(
        errorCodes(await server().request(lifecycle.verifyEmail, { token: linkToken(message, "verify-email") })),
      ).toEqual(["INVALID_TOKEN"]);
    }
    expect(await linksOf(session.user.id)).toBe(1);
    expect((await server().request(lifecycle.verifyEmail, { token: verification })).data).toEqual({
      verifyEmail: true,
    });
    expect((await login(account.email, account.password)).errors).toBeUndefined();
  });

  it("requestPasswordReset still answers true (it must not tell who has an account), issues no link and logs the failure", async () => {
    const { account, session } = await register();
    mail.refuse = true;
    try {
      const requested = await server().request(lifecycle.requestPasswordReset, { email: account.email });
      expect(requested).toMatchObject({ data: { requestPasswordReset: true } });
      await server().app.services.passwordReset.settled();
    } finally {
      mail.refuse = false;
    }
    const refused = mail.refused.filter((message) => message.to.includes(account.email));
    expect(refused).toHaveLength(1);
    const token = linkToken(refused[0]!, "reset-password");
    expect(
      errorCodes(await server().request(lifecycle.resetPassword, { token, newPassword: "a brand new passphrase" })),
    ).toEqual(["INVALID_TOKEN"]);
    expect(
      await server().database.accountToken.count({ where: { userId: session.user.id, purpose: "reset_password" } }),
    ).toBe(0);
    expect(logLines.some((line) => line.includes("password reset mail not delivered"))).toBe(true);
    expect(logLines.join("")).not.toContain(token);
  });

  it("a reset whose notice is refused still takes effect, and the failure is logged", async () => {
    const { account } = await register();
    await server().request(lifecycle.requestPasswordReset, { email: account.email });
    const token = linkToken(await mail.waitFor(account.email, 2), "reset-password");
    mail.refuse = true;
    try {
      const reset = await server().request(lifecycle.resetPassword, { token, newPassword: "a brand new passphrase" });
      expect(reset.data).toEqual({ resetPassword: true });
    } finally {
      mail.refuse = false;
    }
    expect((await login(account.email, "a brand new passphrase")).errors).toBeUndefined();
    const logged = logLines.map((line) => JSON.parse(line) as { msg: string; subject?: string });
    expect(logged).toContainEqual(
      expect.objectContaining({ msg: "notice not delivered", subject: "Your password was changed" }),
    );
  });
});

const login = (usernameOrEmail: string, password: string) =>
  server().request(mutations.login, { input: { usernameOrEmail, password } });
