import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { beforeAll, describe, expect, it } from "vitest";
import { admin, signUp, signUpAdmin, type SignedUp } from "./helpers/accounts.js";
import { errorCodes } from "../harness/graphql.js";
import { expectRefused, flipped, useForgeryServer, withClientData } from "./helpers/passkey-forgery.js";
import {
  appOrigin,
  beginLogin,
  beginRegistration,
  ok,
  passkeyDocuments,
  passkeySettings,
  registerPasskey,
  TestAuthenticator,
  type AuthenticationResponse,
} from "./helpers/passkeys.js";
import { useTestServer } from "./helpers/test-server.js";

// Every forgery, replay and misuse a sign-in answer can carry: each refused with its code, and
// nothing issued (no session, no refresh token, no counter moved) — read from the database itself.
const { clock, server, holdings } = useForgeryServer();
const trials = 5;

// `response`: any JSON object, however forged.
const finishLogin = (challengeId: string, response: object) =>
  server().request(passkeyDocuments.finishLogin, { challengeId, response });

describe("forged or misused sign-ins", () => {
  let user: SignedUp;
  let other: SignedUp;
  let authenticator: TestAuthenticator;
  let otherAuthenticator: TestAuthenticator;
  beforeAll(async () => {
    [user, other] = [await signUp(server(), "target"), await signUp(server(), "intruder")];
    [authenticator, otherAuthenticator] = [new TestAuthenticator(), new TestAuthenticator()];
    await registerPasskey(server(), user.accessToken, authenticator);
    await registerPasskey(server(), other.accessToken, otherAuthenticator);
  });

  /** A sign-in whose answer `forge` makes, expecting `code` and no new session, token or counter for either account. */
  async function refusedSignIn(
    code: string,
    forge: (
      options: PublicKeyCredentialRequestOptionsJSON,
      challengeId: string,
    ) => { challengeId?: string; response: object },
    input: { usernameOrEmail?: string } = {},
  ) {
    const before = [await holdings(user.id), await holdings(other.id)];
    const { challengeId, options } = await beginLogin(server(), input);
    const forged = forge(options, challengeId);
    expectRefused(await finishLogin(forged.challengeId ?? challengeId, forged.response), code);
    expect([await holdings(user.id), await holdings(other.id)]).toEqual(before);
  }

  it("refuses a replayed challenge, an expired one, and a registration challenge", async () => {
    for (let trial = 0; trial < trials; trial++) {
      const { challengeId, options } = await beginLogin(server(), { usernameOrEmail: user.account.username });
      const response = authenticator.get(options);
      ok(await finishLogin(challengeId, response));
      const before = await holdings(user.id);
      expectRefused(await finishLogin(challengeId, response), "INVALID_CHALLENGE");
      expectRefused(await finishLogin(challengeId, authenticator.get(options)), "INVALID_CHALLENGE");
      expect(await holdings(user.id)).toEqual(before);
    }
    await refusedSignIn("INVALID_CHALLENGE", (options) => {
      clock.advance(5 * 60 + 1);
      return { response: authenticator.get(options) };
    });
    const registration = await beginRegistration(server(), other.accessToken, other.account.password);
    await refusedSignIn("INVALID_CHALLENGE", (options) => ({
      challengeId: registration.challengeId,
      response: authenticator.get(options),
    }));
  });

  it("refuses a credential of another account, whichever account the challenge named", async () => {
    for (let trial = 0; trial < trials; trial++) {
      await refusedSignIn(
        "INVALID_PASSKEY",
        (options) => ({ response: otherAuthenticator.get({ ...options, allowCredentials: undefined }) }),
        {
          usernameOrEmail: user.account.email,
        },
      );
      // A name no account has: its made-up allow-list admits no real credential either.
      await refusedSignIn(
        "INVALID_PASSKEY",
        (options) => ({ response: authenticator.get({ ...options, allowCredentials: undefined }) }),
        {
          usernameOrEmail: `nobody-${trial}`,
        },
      );
    }
  });

  it("refuses a removed credential", async () => {
    const owner = await signUp(server(), "removing");
    const removed = new TestAuthenticator();
    const passkey = await registerPasskey(server(), owner.accessToken, removed);
    await registerPasskey(server(), owner.accessToken, new TestAuthenticator());
    ok(await server().request(passkeyDocuments.remove, { id: passkey.id }, { token: owner.accessToken }));
    for (let trial = 0; trial < trials; trial++) {
      for (const input of [{ usernameOrEmail: owner.account.username }, {}]) {
        const before = await holdings(owner.id);
        const { challengeId, options } = await beginLogin(server(), input);
        expectRefused(
          await finishLogin(challengeId, removed.get({ ...options, allowCredentials: undefined })),
          "INVALID_PASSKEY",
        );
        expect(await holdings(owner.id)).toEqual(before);
      }
    }
  });

  it("refuses an answer made on another origin, for another RP ID, with tampered client data, signature or user handle", async () => {
    const movedAway = new TestAuthenticator();
    movedAway.restore(authenticator.snapshot());
    movedAway.moveToRelyingParty("evil.localhost");
    for (let trial = 0; trial < trials; trial++) {
      await refusedSignIn("INVALID_PASSKEY", (options) => ({
        response: authenticator.get(options, `http://localhost:${7000 + trial}`),
      }));
      await refusedSignIn("INVALID_PASSKEY", (options) => ({
        response: movedAway.get({ ...options, rpId: "evil.localhost" }, appOrigin, [appOrigin]),
      }));
      await refusedSignIn("INVALID_PASSKEY", (options) => ({
        response: withClientData(
          authenticator.get(options),
          (clientData) => (clientData.crossOrigin = trial % 2 === 0 ? true : "x"),
        ),
      }));
      await refusedSignIn("INVALID_PASSKEY", (options) => {
        const response = authenticator.get(options);
        return {
          response: {
            ...response,
            response: { ...response.response, signature: flipped(response.response.signature, 8 + trial) },
          },
        };
      });
      await refusedSignIn("INVALID_PASSKEY", (options) => {
        const response = authenticator.get(options);
        return {
          response: {
            ...response,
            response: {
              ...response.response,
              authenticatorData: flipped(response.response.authenticatorData, 33 + trial),
            },
          },
        };
      });
      await refusedSignIn("INVALID_PASSKEY", (options) => {
        const response = authenticator.get(options);
        return {
          response: {
            ...response,
            response: { ...response.response, userHandle: Buffer.from(`someone else ${trial}`).toString("base64url") },
          },
        };
      });
    }
  });

  it("refuses an assertion whose counter went back, and records it; a passkey that keeps no counter signs in every time", async () => {
    const cloned = await signUp(server(), "cloned");
    const original = new TestAuthenticator();
    const passkey = await registerPasskey(server(), cloned.accessToken, original);
    const atRegistration = original.snapshot();
    for (let use = 0; use < 3; use++) ok(await finishLogin(...(await signInParts(original, cloned))));
    for (let trial = 0; trial < trials; trial++) {
      // A copy of the authenticator as it was, used apart from the original: counters 1, 2, 3 again.
      const copy = new TestAuthenticator();
      copy.restore(atRegistration);
      for (let use = 0; use < 3; use++) {
        const before = await holdings(cloned.id);
        expectRefused(await finishLogin(...(await signInParts(copy, cloned))), "INVALID_PASSKEY");
        expect(await holdings(cloned.id)).toEqual(before);
      }
    }
    const regressions = await server().database.securityEvent.findMany({
      where: { userId: cloned.id, kind: "passkey_counter_regressed" },
      orderBy: { id: "asc" },
    });
    expect(regressions).toHaveLength(trials * 3);
    expect(regressions[0]!.details).toEqual({ passkeyId: passkey.id, storedCount: 3, presentedCount: 1 });
    // The original goes on from where it was.
    ok(await finishLogin(...(await signInParts(original, cloned))));

    const synced = await signUp(server(), "synced");
    const counterless = new TestAuthenticator({ signCounterIncrement: 0 });
    await registerPasskey(server(), synced.accessToken, counterless);
    for (let use = 0; use < trials; use++) ok(await finishLogin(...(await signInParts(counterless, synced))));
    expect(
      await server().database.securityEvent.count({ where: { userId: synced.id, kind: "passkey_counter_regressed" } }),
    ).toBe(0);
  });

  it("refuses a locked account's passkey once it verifies, and records why", async () => {
    const root = await signUpAdmin(server(), "passkeyadmin");
    const locked = await signUp(server(), "locked");
    const key = new TestAuthenticator();
    await registerPasskey(server(), locked.accessToken, key);
    ok(await server().request(admin.lockUser, { id: locked.id }, { token: root.accessToken }));
    for (let trial = 0; trial < trials; trial++) {
      const before = await holdings(locked.id);
      expectRefused(await finishLogin(...(await signInParts(key, locked))), "ACCOUNT_LOCKED");
      expectRefused(await finishLogin(...(await signInParts(key))), "ACCOUNT_LOCKED");
      expect(await holdings(locked.id)).toEqual({ ...before, passkeys: expect.any(Array) });
    }
    expect(await server().database.session.count({ where: { userId: locked.id, revokedAt: null } })).toBe(0);
    const failures = await server().database.securityEvent.findMany({
      where: { userId: locked.id, kind: "login_failed" },
      select: { details: true },
    });
    expect(failures).toHaveLength(trials * 2);
    for (const failure of failures) expect(failure.details).toEqual({ reason: "locked", method: "passkey" });
  });

  it("lets one of concurrent finishes of one challenge start a session", async () => {
    for (let trial = 0; trial < trials; trial++) {
      const { challengeId, options } = await beginLogin(server(), { usernameOrEmail: user.account.username });
      const response = authenticator.get(options);
      const before = await holdings(user.id);
      const answers = await Promise.all(Array.from({ length: 6 }, () => finishLogin(challengeId, response)));
      expect(answers.filter((answer) => !answer.errors)).toHaveLength(1);
      for (const answer of answers.filter((answer) => answer.errors))
        expect(errorCodes(answer)).toEqual(["INVALID_CHALLENGE"]);
      expect((await holdings(user.id)).sessions).toBe(before.sessions + 1);
    }
  });
});

/** The challenge id and the authenticator's answer of a sign-in (by the account's name when given, else discoverable). */
async function signInParts(
  authenticator: TestAuthenticator,
  account?: SignedUp,
): Promise<[string, AuthenticationResponse]> {
  const { challengeId, options } = await beginLogin(
    server(),
    account ? { usernameOrEmail: account.account.username } : {},
  );
  return [challengeId, authenticator.get(options)];
}

describe("the login limits", () => {
  const limited = useTestServer({ config: passkeySettings, loginLimits: { failuresPerClient: 3 } });

  it("count refused passkeys as wrong passwords are, and stop passkeys and passwords alike past them", async () => {
    const user = await signUp(limited(), "limited");
    const key = new TestAuthenticator();
    await registerPasskey(limited(), user.accessToken, key);
    const attempt = async (forge: (response: AuthenticationResponse) => object) => {
      const { challengeId, options } = await beginLogin(limited(), { usernameOrEmail: user.account.username });
      const response = key.get(options);
      return limited().request(passkeyDocuments.finishLogin, { challengeId, response: forge(response) });
    };
    const tampered = (response: AuthenticationResponse) => ({
      ...response,
      response: { ...response.response, signature: flipped(response.response.signature, 9) },
    });
    // A success resets the client's count, as a right password does.
    for (let round = 0; round < 2; round++) {
      for (let failure = 0; failure < 2; failure++) expectRefused(await attempt(tampered), "INVALID_PASSKEY");
      ok(await attempt((response) => response));
    }
    for (let failure = 0; failure < 3; failure++) expectRefused(await attempt(tampered), "INVALID_PASSKEY");
    const sessions = await limited().database.session.count({ where: { userId: user.id } });
    const refused = await attempt((response) => response);
    expectRefused(refused, "RATE_LIMITED");
    expect(refused.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
    expectRefused(
      await limited().request(`mutation($input: LoginInput!) { login(input: $input) { accessToken } }`, {
        input: { usernameOrEmail: user.account.username, password: user.account.password },
      }),
      "RATE_LIMITED",
    );
    expect(await limited().database.session.count({ where: { userId: user.id } })).toBe(sessions);
    const events = await limited().database.securityEvent.findMany({
      where: { userId: user.id, kind: { in: ["login_failed", "login_rate_limited", "login_succeeded"] } },
      orderBy: { id: "asc" },
      select: { kind: true, details: true },
    });
    const failed = { kind: "login_failed", details: { method: "passkey" } };
    const succeeded = { kind: "login_succeeded", details: { method: "passkey" } };
    expect(events).toEqual([
      failed,
      failed,
      succeeded,
      failed,
      failed,
      succeeded,
      failed,
      failed,
      failed,
      { kind: "login_rate_limited", details: null },
    ]);
  });
});
