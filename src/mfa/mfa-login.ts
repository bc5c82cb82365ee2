import type { SecurityEvents } from "../audit/security-events.js";
import { hashOpaqueToken } from "../auth/opaque-tokens.js";
import type { Clock } from "../clock.js";
import type { Database, Transaction } from "../db/prisma.js";
import { InvalidMfaCodeError, InvalidMfaTokenError, type AppError } from "../errors/errors.js";
import type { ClientInfo } from "../http/client-info.js";
import type { EventCounter } from "../observability/events.js";
import { firstFactors, type FirstFactor } from "../sessions/sign-in-proof.js";
import type { AuthResult, LoginDetails } from "../sessions/session-lifecycle.js";
import type { SessionsService } from "../sessions/sessions.service.js";
import type { UsersService } from "../users/users.service.js";
import type { SecondFactor } from "./second-factor.js";

/** Wrong codes one mfaToken takes before it dies (the account's own limit applies across tokens). */
export const codeAttemptsPerChallenge = 5;

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
  /** Starts the session, exactly as a login without a second factor does. */
  sessions: Pick<SessionsService, "startSession">;
  onEvent: EventCounter;
}

/** The second step of a login of an account with a second factor. */
export class MfaLogin {
  constructor(private readonly dependencies: MfaLoginDependencies) {}

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
    const live =
      challenge &&
      !challenge.usedAt &&
      challenge.expiresAt > this.dependencies.clock.now() &&
      challenge.failedAttempts < codeAttemptsPerChallenge;
    if (!live) throw new InvalidMfaTokenError();
    return {
      tokenHash,
      userId: challenge.userId,
      firstFactor: firstFactors.find((factor) => factor === challenge.firstFactor) ?? "password",
    };
  }

  /**
   * The usual tokens for a live mfaToken (by its hash) and a second factor of its account that
   * holds. The token is held while the factor is checked, so concurrent attempts with one token
   * queue and at most one wins; a refused factor counts against the token, which dies after
   * `codeAttemptsPerChallenge` of them, and against the account's own limit.
   */
  async completeWith(tokenHash: string, client: ClientInfo, proof: SecondFactorProof): Promise<AuthResult> {
    const { database, users, secondFactor, audit, clock, sessions } = this.dependencies;
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
      await audit.record(tx, {
        kind: "login_failed",
        userId,
        actorId: null,
        client,
        details: { reason: proof.reason },
      });
      return "rejected";
    });
    if (outcome === "dead") throw new InvalidMfaTokenError();
    if (outcome === "rejected") throw proof.refused();
    const [user] = await users.findByIds([userId]);
    if (!user) throw new InvalidMfaTokenError();
    // How the first factor signed in, then what the second adds.
    const details = { ...(challenge.loginDetails as LoginDetails | null), ...proof.details };
    return sessions.startSession(
      { user, credentialsVersion: challenge.credentialsVersion },
      client,
      Object.keys(details).length > 0 ? details : undefined,
    );
  }
}
