import { createHash } from "node:crypto";
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import type { SecurityEvents } from "../audit/security-events.js";
import type { Clock } from "../clock.js";
import type { Database, Transaction } from "../db/prisma.js";
import { BadUserInputError, InvalidPasskeyError } from "../errors/errors.js";
import type { ClientInfo } from "../http/client-info.js";
import type { MfaLogin } from "../mfa/mfa-login.js";
import type { PasswordAttemptLimiter } from "../rate-limit/password-attempts.js";
import type { AuthResult } from "../sessions/session-lifecycle.js";
import type { CredentialSignIn } from "../sessions/sessions.service.js";
import { parseLoginIdentifier } from "../users/identity.js";
import type { LoginAccount, UsersService } from "../users/users.service.js";
import type { PasskeyChallenges, PendingChallenge } from "./challenges.js";
import type { DecoyCredentials } from "./decoys.js";
import type { IssuedChallenge } from "./passkey-registration.service.js";
import type { PasskeyStore, StoredPasskey } from "./passkey-store.js";
import type { CredentialDescriptor, RelyingParty, VerifiedAssertion } from "./relying-party.js";
import { parseAssertion } from "./responses.js";

/** Listed for a name no account has, so that it costs the queries a real name does. */
const nobody = "00000000-0000-0000-0000-000000000000";
const byPasskey = { method: "passkey" } as const;

export interface PasskeySignInDependencies {
  database: Database;
  store: PasskeyStore;
  challenges: PasskeyChallenges;
  relyingParty: RelyingParty;
  decoys: DecoyCredentials;
  users: UsersService;
  /** The steps every login shares: limits, refusals, events, second factor, session. */
  signIn: CredentialSignIn;
  /** Counts the challenges each client address asks for, within its allowance. */
  starts: Pick<PasswordAttemptLimiter, "signInStart">;
  /** Logins awaiting a second factor, which a passkey may complete. */
  mfaLogin: Pick<MfaLogin, "pending" | "completeWith">;
  audit: SecurityEvents;
  clock: Clock;
}

/** A stored passkey with its account's user handle, as a sign-in checks an answer against it. */
type AnsweringPasskey = StoredPasskey & { userHandle: string | null };

/** Signing in with a passkey: by name, discoverable (autofill), or as the second factor of a login. */
export class PasskeySignIn {
  constructor(private readonly dependencies: PasskeySignInDependencies) {}

  /**
   * Options for `startAuthentication`: with a name, that account's passkeys (made-up ones for a name
   * no account has, or an account without one: the answer looks alike); with an mfaToken, the
   * passkeys of the login it completes; with neither, any discoverable passkey. RATE_LIMITED past
   * the client address's allowance of sign-in starts.
   */
  async begin(
    input: { usernameOrEmail?: string | null; mfaToken?: string | null },
    client: ClientInfo,
  ): Promise<IssuedChallenge<PublicKeyCredentialRequestOptionsJSON>> {
    const { usernameOrEmail, mfaToken } = input;
    if (usernameOrEmail != null && mfaToken != null) {
      throw new BadUserInputError("mfaToken", "Give a username or e-mail address, or an mfaToken, not both.");
    }
    await this.dependencies.starts.signInStart(client.ip);
    if (mfaToken != null) return this.beginSecondFactor(mfaToken);
    if (usernameOrEmail != null) return this.beginNamed(usernameOrEmail);
    return this.issue({ purpose: "sign_in", userId: null, discoverable: true, userVerification: "preferred" });
  }

  /** Verifies `startAuthentication`'s answer to the challenge: the tokens of a new session, as `login` gives. */
  async finish(challengeId: string, response: unknown, client: ClientInfo): Promise<AuthResult> {
    const challenge = await this.dependencies.challenges.take(challengeId, ["sign_in", "second_factor"]);
    const answer = parseAssertion(response);
    return challenge.purpose === "second_factor"
      ? this.finishSecondFactor(challenge, answer, client)
      : this.finishSignIn(challenge, answer, client);
  }

  private async beginNamed(usernameOrEmail: string): Promise<IssuedChallenge<PublicKeyCredentialRequestOptionsJSON>> {
    const { users, store, decoys } = this.dependencies;
    const identifier = parseLoginIdentifier(usernameOrEmail);
    const account = await users.findForLogin(identifier);
    const passkeys = await store.listOf(account?.user.id ?? nobody);
    const allow = passkeys.length > 0 ? passkeys : decoys.for(account ? `id:${account.user.id}` : `name:${identifier}`);
    return this.issue(
      { purpose: "sign_in", userId: account?.user.id ?? null, discoverable: false, userVerification: "preferred" },
      allow,
    );
  }

  private async beginSecondFactor(mfaToken: string): Promise<IssuedChallenge<PublicKeyCredentialRequestOptionsJSON>> {
    const pending = await this.dependencies.mfaLogin.pending(mfaToken);
    return this.issue(
      {
        purpose: "second_factor",
        userId: pending.userId,
        discoverable: false,
        mfaTokenHash: pending.tokenHash,
        // After a passkey that did not verify the user, another presence alone would prove the same factor again.
        userVerification: pending.firstFactor === "passkey" ? "required" : "preferred",
      },
      await this.dependencies.store.listOf(pending.userId),
    );
  }

  private async issue(pending: Omit<PendingChallenge, "challenge">, allow?: CredentialDescriptor[]) {
    const options = await this.dependencies.relyingParty.authenticationOptions({
      allow,
      userVerification: pending.userVerification,
    });
    const issued = await this.dependencies.challenges.issue({ ...pending, challenge: options.challenge });
    return { ...issued, options };
  }

  /**
   * Counted and refused as a wrong password is (same limits, `login_failed` for an existing
   * account): an unknown or removed credential, one the challenge did not allow, one whose answer
   * does not verify or whose counter went back. Then the steps every login shares.
   */
  private async finishSignIn(
    challenge: PendingChallenge,
    answer: AuthenticationResponseJSON,
    client: ClientInfo,
  ): Promise<AuthResult> {
    const { store, users, signIn, database, clock } = this.dependencies;
    const passkey = await store.findByCredentialId(answer.id);
    const account = passkey ? await users.findForLoginById(passkey.userId) : null;
    const userId = account?.user.id;
    const attempt = await signIn.attempt(userId ? `id:${userId}` : `passkey:${digest(answer.id)}`, userId, client);
    const refuse = () => signIn.refuse(userId, client, new InvalidPasskeyError(), byPasskey);
    if (!passkey || !account || !allows(challenge, account, passkey, answer)) throw await refuse();
    const verified = await this.dependencies.relyingParty.verifyAssertion(answer, challenge.challenge, passkey);
    if (!verified) throw await refuse();
    if (verified.counterRegressed) {
      await this.recordRegression(database, passkey, verified, client);
      throw await refuse();
    }
    if (!(await store.recordUse(database, passkey, { ...verified, at: clock.now() }))) throw await refuse();
    await attempt.succeeded();
    return signIn.proceed(account, client, {
      firstFactor: "passkey",
      details: byPasskey,
      multiFactor: verified.userVerified,
    });
  }

  /** A passkey of the login's own account completes it, as a code would (with the same limits). */
  private async finishSecondFactor(
    challenge: PendingChallenge,
    answer: AuthenticationResponseJSON,
    client: ClientInfo,
  ): Promise<AuthResult> {
    const { store, relyingParty, mfaLogin } = this.dependencies;
    const passkey = await store.findByCredentialId(answer.id);
    const owned = passkey !== null && passkey.userId === challenge.userId && handleMatches(passkey, answer);
    const verified = owned ? await relyingParty.verifyAssertion(answer, challenge.challenge, passkey) : null;
    return mfaLogin.completeWith(challenge.mfaTokenHash!, client, {
      reason: "mfa_passkey",
      refused: () => new InvalidPasskeyError(),
      details: { secondFactor: "passkey" },
      check: async (tx, _userId, now) => {
        if (!passkey || !verified || (challenge.userVerification === "required" && !verified.userVerified))
          return false;
        if (verified.counterRegressed) {
          await this.recordRegression(tx, passkey, verified, client);
          return false;
        }
        return store.recordUse(tx, passkey, { ...verified, at: now });
      },
    });
  }

  private async recordRegression(
    writer: Pick<Transaction, "$executeRaw">,
    passkey: StoredPasskey,
    verified: VerifiedAssertion,
    client: ClientInfo,
  ) {
    await this.dependencies.audit.record(writer, {
      kind: "passkey_counter_regressed",
      userId: passkey.userId,
      actorId: null,
      client,
      details: { passkeyId: passkey.id, storedCount: passkey.signCount, presentedCount: verified.signCount },
    });
  }
}

/** Whether the challenge let this credential answer: any discoverable one, or one of the named account's. */
function allows(
  challenge: PendingChallenge,
  account: LoginAccount,
  passkey: AnsweringPasskey,
  answer: AuthenticationResponseJSON,
): boolean {
  return (challenge.discoverable || challenge.userId === account.user.id) && handleMatches(passkey, answer);
}

/** A user handle in the answer (discoverable credentials carry one) must be the credential's account's. */
function handleMatches(passkey: AnsweringPasskey, answer: AuthenticationResponseJSON): boolean {
  return answer.response.userHandle === undefined || answer.response.userHandle === passkey.userHandle;
}

/** A credential id no account has, as a limiter key of bounded length. */
function digest(credentialId: string): string {
  return createHash("sha256").update(credentialId).digest("base64url");
}
