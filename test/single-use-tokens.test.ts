import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import { linkToken, TestMailServer, withMailServer } from "./helpers/mail.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

let mail: TestMailServer;
beforeAll(async () => {
  mail = await TestMailServer.start();
});
afterAll(() => mail?.close());

const clock = new ManualClock();
const server = useTestServer({
  clock,
  config: withMailServer(() => mail, { MAIL_REQUESTS_PER_HOUR: "100" }),
});

async function register() {
  const account = newAccount("token");
  const session = (await server().request(mutations.register, { input: account })).data!.register;
  const verification = linkToken(await mail.waitFor(account.email), "verify-email");
  return { account, session, verification };
}

/** The link of a new reset mail; notices of earlier resets go out on their own time, so they are skipped. */
async function resetToken(email: string): Promise<string> {
  const resetMails = () => mail.to(email).filter((message) => message.subject === "Reset your password");
  const before = resetMails().length;
  await server().request(lifecycle.requestPasswordReset, { email });
  await expect.poll(() => resetMails().length, { timeout: 10_000 }).toBe(before + 1);
  return linkToken(resetMails().at(-1)!, "reset-password");
}

const verify = (token: string, accessToken?: string) =>
  server().request(lifecycle.verifyEmail, { token }, { token: accessToken });
const reset = (token: string, newPassword = "a brand new passphrase") =>
  server().request(lifecycle.resetPassword, { token, newPassword });

describe("link tokens answer INVALID_TOKEN", () => {
  it("when used a second time", async () => {
    const { account, verification } = await register();
    expect((await verify(verification)).data).toEqual({ verifyEmail: true });
    expect(errorCodes(await verify(verification))).toEqual(["INVALID_TOKEN"]);

    const token = await resetToken(account.email);
    expect((await reset(token)).data).toEqual({ resetPassword: true });
    expect(errorCodes(await reset(token, "yet another passphrase"))).toEqual(["INVALID_TOKEN"]);
  });

  it("when expired: verification after 24 hours, reset after 1 hour", async () => {
    const { account, verification } = await register();
    const token = await resetToken(account.email);
    clock.advance(3600 + 1);
    expect(errorCodes(await reset(token))).toEqual(["INVALID_TOKEN"]);
    clock.advance(23 * 3600);
    const response = await verify(verification);
    expect(errorCodes(response)).toEqual(["INVALID_TOKEN"]);
    expect(response.errors![0]!.extensions!.field).toBe("token");

    // Just before expiry they still work.
    const { verification: fresh, account: other } = await register();
    const freshReset = await resetToken(other.email);
    clock.advance(3600 - 1);
    expect(await reset(freshReset)).toMatchObject({ data: { resetPassword: true } });
    clock.advance(23 * 3600);
    expect(await verify(fresh)).toMatchObject({ data: { verifyEmail: true } });
  });

  it("when a newer link of the same kind replaced it", async () => {
    const { account, verification, session } = await register();
    const first = await resetToken(account.email);
    const second = await resetToken(account.email);
    expect(errorCodes(await reset(first))).toEqual(["INVALID_TOKEN"]);

    await server().request(lifecycle.requestEmailVerification, {}, { token: session.accessToken });
    const newer = linkToken(await mail.waitFor(account.email, 4), "verify-email");
    expect(errorCodes(await verify(verification))).toEqual(["INVALID_TOKEN"]);
    // A link of another kind is not replaced.
    expect((await reset(second)).data).toEqual({ resetPassword: true });
    expect((await verify(newer)).data).toEqual({ verifyEmail: true });
  });

  it("when tampered with, malformed, or of the wrong kind", async () => {
    const { account, verification } = await register();
    const token = await resetToken(account.email);
    const flipped = (text: string) => `${text.slice(0, -1)}${text.endsWith("A") ? "B" : "A"}`;
    for (const bad of [flipped(token), `${token}x`, token.slice(1), "", "not a token", "x".repeat(10_000)]) {
      expect(errorCodes(await reset(bad)), bad.slice(0, 20)).toEqual(["INVALID_TOKEN"]);
    }
    for (const bad of [flipped(verification), verification.toUpperCase()]) {
      expect(errorCodes(await verify(bad))).toEqual(["INVALID_TOKEN"]);
    }
    // A reset token does not verify, a verification token does not reset.
    expect(errorCodes(await verify(token))).toEqual(["INVALID_TOKEN"]);
    expect(errorCodes(await reset(verification))).toEqual(["INVALID_TOKEN"]);
    // None of that used them up.
    expect((await verify(verification)).data).toEqual({ verifyEmail: true });
    expect((await reset(token)).data).toEqual({ resetPassword: true });
  });

  it("when presented by another signed-in user, and the link keeps working for its owner", async () => {
    const owner = await register();
    const intruder = await register();
    expect(errorCodes(await verify(owner.verification, intruder.session.accessToken))).toEqual(["INVALID_TOKEN"]);
    const token = await resetToken(owner.account.email);
    const foreign = await server().request(
      lifecycle.resetPassword,
      { token, newPassword: "intruder's choice" },
      { token: intruder.session.accessToken },
    );
    expect(errorCodes(foreign)).toEqual(["INVALID_TOKEN"]);

    expect((await verify(owner.verification, owner.session.accessToken)).data).toEqual({ verifyEmail: true });
    expect((await reset(token)).data).toEqual({ resetPassword: true });
  });

  it("when the account's address changed since the link was sent", async () => {
    const { account, session, verification } = await register();
    const token = await resetToken(account.email);
    const newEmail = `moved-${account.email}`;
    await server().request(
      lifecycle.changeEmail,
      { newEmail, currentPassword: account.password },
      { token: session.accessToken },
    );
    const confirmation = linkToken(await mail.waitFor(newEmail), "verify-email");
    expect((await verify(confirmation)).data).toEqual({ verifyEmail: true });
    expect(errorCodes(await reset(token))).toEqual(["INVALID_TOKEN"]);
    expect(errorCodes(await verify(verification))).toEqual(["INVALID_TOKEN"]);
  });

  it("for all but one of many concurrent uses of one link", async () => {
    const { account } = await register();
    for (let trial = 0; trial < 5; trial++) {
      const token = await resetToken(account.email);
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, index) => reset(token, `concurrent passphrase ${trial} ${index}`)),
      );
      const winners = answers.filter((answer) => answer.data?.resetPassword === true);
      expect(winners).toHaveLength(1);
      expect(answers.flatMap(errorCodes).sort()).toEqual(Array(7).fill("INVALID_TOKEN"));
    }
  });
});
