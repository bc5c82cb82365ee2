import { describe, expect, it } from "vitest";
import { signUp } from "./helpers/accounts.js";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, mutations, type GraphQLResponse } from "../harness/graphql.js";
import { authenticatorCode, mfaClient } from "./helpers/mfa.js";
import {
  beginLogin,
  ok,
  passkeyDocuments,
  passkeySettings,
  registerPasskey,
  signInWithPasskey,
  TestAuthenticator,
} from "./helpers/passkeys.js";
import { useTestServer } from "./helpers/test-server.js";

// A passkey with user verification is two factors by itself (something held, unlocked by something
// known or inherent); one without is one factor, like a password; and a passkey completes a login
// that asks for a second factor.
const clock = new ManualClock();
const server = useTestServer({ clock, config: passkeySettings });
const client = mfaClient(server, clock);
const trials = 5;

function mfaTokenOf(response: GraphQLResponse): string {
  expect(errorCodes(response)).toEqual(["MFA_REQUIRED"]);
  return response.errors![0]!.extensions!.mfaToken as string;
}

const loginEvents = (userId: string) =>
  server().database.securityEvent.findMany({
    where: { userId, kind: { in: ["login_succeeded", "login_failed"] } },
    orderBy: { id: "asc" },
    select: { kind: true, details: true },
  });
const liveSessions = (userId: string) => server().database.session.count({ where: { userId, revokedAt: null } });

/** An account with TOTP on and one passkey of each kind. */
async function mfaAccountWithPasskeys() {
  const account = await client.registerWithMfa();
  const verifying = new TestAuthenticator();
  const presenceOnly = new TestAuthenticator({ userVerified: false });
  await registerPasskey(server(), account.accessToken, verifying, "Verifying");
  await registerPasskey(server(), account.accessToken, presenceOnly, "Presence only");
  return { ...account, verifying, presenceOnly };
}

describe("an account with a second factor", () => {
  it("signs in with a passkey that verified its user, by name or discoverable, without a code", async () => {
    const account = await mfaAccountWithPasskeys();
    for (const input of [{ usernameOrEmail: account.account.username }, {}]) {
      const signedIn = ok(await signInWithPasskey(server(), account.verifying, input)).finishPasskeyLogin;
      expect(ok(await server().request(mutations.me, {}, { token: signedIn.accessToken })).me.id).toBe(account.userId);
    }
    expect((await loginEvents(account.userId)).map((event) => event.details)).toEqual([
      { method: "passkey" },
      { method: "passkey" },
    ]);
  });

  it("answers MFA_REQUIRED to a passkey without user verification; a code completes it", async () => {
    const account = await mfaAccountWithPasskeys();
    const sessions = await liveSessions(account.userId);
    const mfaToken = mfaTokenOf(
      await signInWithPasskey(server(), account.presenceOnly, { usernameOrEmail: account.account.email }),
    );
    expect(await liveSessions(account.userId)).toBe(sessions);
    const completed = ok(await client.complete(mfaToken, await authenticatorCode(account.secret, clock))).completeLogin;
    expect(completed.user.id).toBe(account.userId);
    expect(await loginEvents(account.userId)).toEqual([{ kind: "login_succeeded", details: { method: "passkey" } }]);
  });

  it("after a passkey without user verification, takes as second factor only a passkey that verifies its user", async () => {
    const account = await mfaAccountWithPasskeys();
    const mfaToken = mfaTokenOf(
      await signInWithPasskey(server(), account.presenceOnly, { usernameOrEmail: account.account.username }),
    );
    const second = await beginLogin(server(), { mfaToken });
    expect(second.options).toMatchObject({ userVerification: "required" });
    expect(second.options.allowCredentials).toHaveLength(2);
    // The same factor twice is not two factors: refused, counted against the mfaToken, nothing issued.
    const sessions = await liveSessions(account.userId);
    const refused = await server().request(passkeyDocuments.finishLogin, {
      challengeId: second.challengeId,
      response: account.presenceOnly.get(second.options),
    });
    expect(errorCodes(refused)).toEqual(["INVALID_PASSKEY"]);
    expect(await liveSessions(account.userId)).toBe(sessions);
    const challenge = await server().database.mfaChallenge.findFirstOrThrow({
      where: { userId: account.userId, usedAt: null },
    });
    expect(challenge).toMatchObject({ failedAttempts: 1, firstFactor: "passkey" });

    const completed = ok(await signInWithPasskey(server(), account.verifying, { mfaToken })).finishPasskeyLogin;
    expect(completed.user.id).toBe(account.userId);
    expect(await loginEvents(account.userId)).toEqual([
      { kind: "login_failed", details: { reason: "mfa_passkey" } },
      { kind: "login_succeeded", details: { method: "passkey", secondFactor: "passkey" } },
    ]);
    // Used up: neither a code nor another passkey completes it again.
    expect(errorCodes(await client.complete(mfaToken, await authenticatorCode(account.secret, clock, 1)))).toEqual([
      "INVALID_MFA_TOKEN",
    ]);
    expect(errorCodes(await server().request(passkeyDocuments.beginLogin, { mfaToken }))).toEqual([
      "INVALID_MFA_TOKEN",
    ]);
  });

  it("completes a password login with any of the account's passkeys as the second factor", async () => {
    const account = await mfaAccountWithPasskeys();
    for (const passkey of [account.presenceOnly, account.verifying]) {
      const mfaToken = await client.mfaToken(account.account);
      const second = await beginLogin(server(), { mfaToken });
      expect(second.options).toMatchObject({ userVerification: "preferred" });
      const completed = ok(
        await server().request(passkeyDocuments.finishLogin, {
          challengeId: second.challengeId,
          response: passkey.get(second.options),
        }),
      ).finishPasskeyLogin;
      expect(ok(await server().request(mutations.me, {}, { token: completed.accessToken })).me.id).toBe(account.userId);
      expect(errorCodes(await client.complete(mfaToken, await authenticatorCode(account.secret, clock)))).toEqual([
        "INVALID_MFA_TOKEN",
      ]);
    }
    expect((await loginEvents(account.userId)).map((event) => event.details)).toEqual([
      { secondFactor: "passkey" },
      { secondFactor: "passkey" },
    ]);
  });

  it("refuses another account's passkey, a dead mfaToken, and kills the mfaToken after five refusals", async () => {
    const account = await mfaAccountWithPasskeys();
    const stranger = await signUp(server(), "stranger");
    const strangerKey = new TestAuthenticator();
    await registerPasskey(server(), stranger.accessToken, strangerKey);
    const mfaToken = await client.mfaToken(account.account);
    for (let trial = 0; trial < trials; trial++) {
      const second = await beginLogin(server(), { mfaToken });
      const response = strangerKey.get({ ...second.options, allowCredentials: undefined });
      expect(
        errorCodes(await server().request(passkeyDocuments.finishLogin, { challengeId: second.challengeId, response })),
      ).toEqual(["INVALID_PASSKEY"]);
    }
    expect(await liveSessions(account.userId)).toBe(1);
    expect(await liveSessions(stranger.id)).toBe(1);
    // Five refusals: the mfaToken is spent, even for the right passkey.
    expect(errorCodes(await server().request(passkeyDocuments.beginLogin, { mfaToken }))).toEqual([
      "INVALID_MFA_TOKEN",
    ]);
    for (const dead of ["", "not-a-token", "x".repeat(500)]) {
      expect(errorCodes(await server().request(passkeyDocuments.beginLogin, { mfaToken: dead }))).toEqual([
        "INVALID_MFA_TOKEN",
      ]);
    }
    // An expired one too.
    const expiring = await client.mfaToken(account.account);
    clock.advance(5 * 60 + 1);
    expect(errorCodes(await server().request(passkeyDocuments.beginLogin, { mfaToken: expiring }))).toEqual([
      "INVALID_MFA_TOKEN",
    ]);
  });
});

describe("a second factor from a copied authenticator", () => {
  it("is refused once its counter goes back, and recorded", async () => {
    const account = await client.registerWithMfa();
    const original = new TestAuthenticator();
    await registerPasskey(server(), account.accessToken, original);
    const copy = new TestAuthenticator();
    copy.restore(original.snapshot());
    for (let use = 0; use < 2; use++)
      ok(await signInWithPasskey(server(), original, { mfaToken: await client.mfaToken(account.account) }));
    const sessions = await liveSessions(account.userId);
    const refused = await signInWithPasskey(server(), copy, { mfaToken: await client.mfaToken(account.account) });
    expect(errorCodes(refused)).toEqual(["INVALID_PASSKEY"]);
    expect(await liveSessions(account.userId)).toBe(sessions);
    const regressions = await server().database.securityEvent.findMany({
      where: { userId: account.userId, kind: "passkey_counter_regressed" },
      select: { details: true },
    });
    expect(regressions).toEqual([{ details: expect.objectContaining({ storedCount: 2, presentedCount: 1 }) }]);
  });
});

describe("an account without a second factor", () => {
  it("signs in with a passkey that did not verify its user, as with a password", async () => {
    const user = await signUp(server(), "single");
    const key = new TestAuthenticator({ userVerified: false });
    await registerPasskey(server(), user.accessToken, key);
    const signedIn = ok(
      await signInWithPasskey(server(), key, { usernameOrEmail: user.account.username }),
    ).finishPasskeyLogin;
    expect(signedIn.user.id).toBe(user.id);
  });
});
