import { hashOpaqueToken, newOpaqueToken } from "../auth/opaque-tokens.js";
import type { SecurityEvents } from "../audit/security-events.js";
import type { Clock } from "../clock.js";
import type { Database, Transaction } from "../db/prisma.js";
import type { AppError } from "../errors/errors.js";
import { InvalidMfaCodeError, InvalidMfaTokenError } from "../errors/errors.js";
import type { AccountCredentials, AuthEvent, AuthResult, ClientInfo, LoginDetails } from "../sessions/session-lifecycle.js";
import type { UserRecord, UsersService } from "../users/users.service.js";
import type { SecondFactor } from "./second-factor.js";

export const mfaChallengeLifetimeSeconds = 5 * 60;
/** Wrong codes one mfaToken takes before it dies (the account's own limit applies across tokens). */
export const codeAttemptsPerChallenge = 5;

/** What a login proved before its second factor was asked for (`mfa_challenges.first_factor`). */
const firstFactors = ["password", "passkey", "provider"] as const;
export type FirstFactor = (typeof firstFactors)[number];

/** A second factor presented to complete a login: checked, and used up, in the transaction that uses up the mfaToken. */
export interface SecondFactorProof {
  check(tx: Transaction, userId: string, now: Date): Promise<boolean>;
  /** Why a refusal is recorded (`login_failed` details): `mfa_code`, `mfa_passkey`. */
  reason: string;
  /** The error a refused proof answers. */
  refused(): AppError;
  /** What the login event adds when it holds. */
  details?: LoginDetails;
}

/** A live mfaToken: the account it completes a login of, and what that login proved first. */
export interface PendingLogin {
  tokenHash: string;
  userId: string;
  firstFactor: FirstFactor;
}

export interface MfaLoginDependencies {
  database: Database;
  users: UsersService;
  secondFactor: SecondFactor;
  audit: SecurityEvents;
  clock: Clock;
  /** Starts a session exactly as a login without a second factor does; `details` say how it signed in. */
  startSession: (account: { user: UserRecord; credentialsVersion: number }, client: ClientInfo, details?: LoginDetails) => Promise<AuthResult>;
  onEvent: (event: AuthEvent) => void;
}

/** The second step of a login of an account with a second factor. */
export class MfaLogin {
  constructor(private readonly dependencies: MfaLoginDependencies) {}

  /**
   * After the right first factor: the mfaToken (single use, five minutes) that completes this login,
   * for this account only, and only while its credentials stay those the first factor was checked
   * against. `details` (how it signed in: a passkey, an identity provider) go into the event of the
   * session it completes.
   */
  async challenge(account: AccountCredentials, firstFactor: FirstFactor = "password", details?: LoginDetails): Promise<string> {
    const { database, clock } = this.dependencies;
    const { token, tokenHash } = newOpaqueToken();
    const now = clock.now();
    await database.mfaChallenge.create({
      data: {
        tokenHash,
        userId: account.id,
        credentialsVersion: account.credentialsVersion,
        firstFactor,
        createdAt: now,
        expiresAt: new Date(now.getTime() + mfaChallengeLifetimeSeconds * 1000),
        loginDetails: details,
      },
    });
    return token;
  }

  /** The usual tokens for a live mfaToken and a current authenticator or recovery code of its account. */
  async complete(mfaToken: string, code: string, client: ClientInfo): Promise<AuthResult> {
    const { secondFactor, onEvent } = this.dependencies;
    return this.completeWith(hashOpaqueToken(mfaToken), client, {
      check: (tx, userId, now) => secondFactor.consume(tx, userId, code, now),
      reason: "mfa_code",
      refused: () => {
        onEvent("mfa_code_rejected");
        return new InvalidMfaCodeError();
      },
    });
  }

  /** The login a live mfaToken awaits a second factor for; INVALID_MFA_TOKEN when it is unknown, used, expired or spent. */
  async pending(mfaToken: string): Promise<PendingLogin> {
    const tokenHash = hashOpaqueToken(mfaToken);
    const challenge = await this.dependencies.database.mfaChallenge.findUnique({ where: { tokenHash } });
    const live = challenge && !challenge.usedAt && challenge.expiresAt > this.dependencies.clock.now() && challenge.failedAttempts < codeAttemptsPerChallenge;
    if (!live) throw new InvalidMfaTokenError();
    return { tokenHash, userId: challenge.userId, firstFactor: firstFactors.find((factor) => factor === challenge.firstFactor) ?? "password" };
  }

  /**
   * The usual tokens for a live mfaToken (by its hash) and a second factor of its account that
   * holds. The token is held while the factor is checked, so concurrent attempts with one token
   * queue and at most one wins; a refused factor counts against the token, which dies after
   * `codeAttemptsPerChallenge` of them, and against the account's own limit.
   */
  async completeWith(tokenHash: string, client: ClientInfo, proof: SecondFactorProof): Promise<AuthResult> {
    const { database, users, secondFactor, audit, clock, startSession } = this.dependencies;
    const challenge = await database.mfaChallenge.findUnique({
      where: { tokenHash },
      select: { userId: true, credentialsVersion: true, loginDetails: true },
    });
    if (!challenge) throw new InvalidMfaTokenError();
    const { userId } = challenge;
    await secondFactor.throttle(userId);
    const now = clock.now();
    const outcome = await database.$transaction(async (tx) => {
      const { count } = await tx.mfaChallenge.updateMany({
        where: { tokenHash, usedAt: null, expiresAt: { gt: now }, failedAttempts: { lt: codeAttemptsPerChallenge } },
        data: { usedAt: now },
      });
      if (count === 0) return "dead";
      if (await proof.check(tx, userId, now)) return "accepted";
      await tx.mfaChallenge.update({ where: { tokenHash }, data: { usedAt: null, failedAttempts: { increment: 1 } } });
      await audit.record(tx, { kind: "login_failed", userId, actorId: null, client, details: { reason: proof.reason } });
      return "rejected";
    });
    if (outcome === "dead") throw new InvalidMfaTokenError();
    if (outcome === "rejected") throw proof.refused();
    const [user] = await users.findByIds([userId]);
    if (!user) throw new InvalidMfaTokenError();
    // How the first factor signed in, then what the second adds.
    const details = { ...(challenge.loginDetails as LoginDetails | null), ...proof.details };
    return startSession({ user, credentialsVersion: challenge.credentialsVersion }, client, Object.keys(details).length > 0 ? details : undefined);
  }

  /** Deletes challenges that expired: they can never complete. */
  async purgeExpired(): Promise<number> {
    const { count } = await this.dependencies.database.mfaChallenge.deleteMany({ where: { expiresAt: { lt: this.dependencies.clock.now() } } });
    return count;
  }
}
