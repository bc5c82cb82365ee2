import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import { capturedLogger } from "./helpers/log.js";
import { linkToken, TestMailServer, withMailServer } from "./helpers/mail.js";
import { outboxSettled } from "./helpers/outbox.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

// Mail goes out through the outbox: an operation answers once its link and mail are committed,
// whatever the mail server does; the outbox retries, or gives the mail up (and its link with it).
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

const linksOf = (userId: string, purpose?: "verify_email" | "change_email" | "reset_password") =>
  server().database.accountToken.count({ where: { userId, ...(purpose ? { purpose } : {}) } });

/** Log entries given up for mail, by subject. */
const givenUp = (subject: string) =>
  logLines
    .map((line) => JSON.parse(line) as { msg: string; subject?: string })
    .filter((entry) => entry.msg === "mail not delivered: given up" && entry.subject === subject);

async function refusedMailCount(): Promise<number> {
  const text = await (await fetch(`${server().baseUrl}/metrics`)).text();
  return Number(/^outbox_delivery_attempts_total\{receiver="mail",outcome="failed"\} (\S+)$/m.exec(text)?.[1] ?? 0);
}

describe("when the mail server is down", () => {
  it("register answers and creates the account; its verification mail goes out once the server is back, and its link works", async () => {
    await mail.close();
    const account = newAccount("outage");
    const registered = await server().request(mutations.register, { input: account });
    expect(registered.errors).toBeUndefined();
    const userId = registered.data!.register.user.id;
    expect(await server().database.user.count({ where: { email: account.email } })).toBe(1);
    // Tried, failed, waiting for the next attempt.
    const delivery = () =>
      server().database.outboxDelivery.findFirstOrThrow({ where: { message: { userId, type: "mail" } } });
    await expect.poll(async () => (await delivery()).attempts, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(await delivery()).toMatchObject({ status: "pending", lastError: "ESOCKET" });

    mail = await TestMailServer.start({ port: mailPort });
    const delivered = await mail.waitFor(account.email);
    expect(delivered.subject).toBe("Confirm your e-mail address");
    expect(mail.to(account.email)).toHaveLength(1);
    expect(
      (await server().request(lifecycle.verifyEmail, { token: linkToken(delivered, "verify-email") })).data,
    ).toEqual({ verifyEmail: true });
  });
});

describe("when the mail server refuses the message", () => {
  it("requestEmailVerification and changeEmail answer true; the refused mails are given up, logged and counted, their links withdrawn; asking again works", async () => {
    const { account, session } = await register();
    const refusedBefore = await refusedMailCount();
    mail.refuse = true;
    try {
      const resend = await server().request(lifecycle.requestEmailVerification, {}, { token: session.accessToken });
      expect(resend.data).toEqual({ requestEmailVerification: true });
      const change = await server().request(
        lifecycle.changeEmail,
        { newEmail: `other-${account.email}`, currentPassword: account.password },
        { token: session.accessToken },
      );
      expect(change.data).toEqual({ changeEmail: true });
      await outboxSettled(server());
    } finally {
      mail.refuse = false;
    }
    // The server saw the messages before refusing them (the change's notice too): their links no longer work.
    const refusedLinks = mail.refused.filter(
      (message) => message.to.some((to) => to.endsWith(account.email)) && message.text.includes("token="),
    );
    expect(refusedLinks).toHaveLength(2);
    for (const message of refusedLinks) {
      expect(
        errorCodes(await server().request(lifecycle.verifyEmail, { token: linkToken(message, "verify-email") })),
      ).toEqual(["INVALID_TOKEN"]);
    }
    expect(await linksOf(session.user.id)).toBe(0);
    expect(givenUp("Confirm your e-mail address")).toHaveLength(1);
    expect(givenUp("Confirm your new e-mail address")).toHaveLength(1);
    expect(givenUp("Your e-mail address is about to change")).toHaveLength(1);
    expect((await refusedMailCount()) - refusedBefore).toBe(3);

    // The person asks again once the server accepts mail: that link works.
    expect(
      (await server().request(lifecycle.requestEmailVerification, {}, { token: session.accessToken })).errors,
    ).toBeUndefined();
    const again = linkToken(await mail.waitFor(account.email, 2), "verify-email");
    expect((await server().request(lifecycle.verifyEmail, { token: again })).data).toEqual({ verifyEmail: true });
    expect((await login(account.email, account.password)).errors).toBeUndefined();
  });

  it("requestPasswordReset still answers true (it must not tell who has an account); the refused link is withdrawn and the failure logged", async () => {
    const { account, session } = await register();
    mail.refuse = true;
    try {
      const requested = await server().request(lifecycle.requestPasswordReset, { email: account.email });
      expect(requested).toMatchObject({ data: { requestPasswordReset: true } });
      await server().app.services.passwordReset.settled();
      await outboxSettled(server());
    } finally {
      mail.refuse = false;
    }
    const refused = mail.refused.filter((message) => message.to.includes(account.email));
    expect(refused).toHaveLength(1);
    const token = linkToken(refused[0]!, "reset-password");
    expect(
      errorCodes(await server().request(lifecycle.resetPassword, { token, newPassword: "a brand new passphrase" })),
    ).toEqual(["INVALID_TOKEN"]);
    expect(await linksOf(session.user.id, "reset_password")).toBe(0);
    expect(givenUp("Reset your password").length).toBeGreaterThanOrEqual(1);
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
      await outboxSettled(server());
    } finally {
      mail.refuse = false;
    }
    expect((await login(account.email, "a brand new passphrase")).errors).toBeUndefined();
    expect(givenUp("Your password was changed").length).toBeGreaterThanOrEqual(1);
  });
});

const login = (usernameOrEmail: string, password: string) =>
  server().request(mutations.login, { input: { usernameOrEmail, password } });
