import { hashOpaqueToken, newOpaqueToken } from "../auth/opaque-tokens.js";
import type { SecurityEvents } from "../audit/security-events.js";
import type { Clock } from "../clock.js";
import type { Database } from "../db/prisma.js";
import { InvalidMfaCodeError, InvalidMfaTokenError } from "../errors/errors.js";
import type { AccountCredentials, AuthEvent, AuthResult, ClientInfo, LoginDetails } from "../sessions/session-lifecycle.js";
import type { UserRecord, UsersService } from "../users/users.service.js";
import type { SecondFactor } from "./second-factor.js";

export const mfaChallengeLifetimeSeconds = 5 * 60;
/** Wrong codes one mfaToken takes before it dies (the account's own limit applies across tokens). */
export const codeAttemptsPerChallenge = 5;

export interface MfaLoginDependencies {
  database: Database;
  users: UsersService;
  secondFactor: SecondFactor;
  audit: SecurityEvents;
  clock: Clock;
  /** Starts a session exactly as a login without a second factor does. */
  startSession: (account: { user: UserRecord; credentialsVersion: number }, client: ClientInfo, details?: LoginDetails) => Promise<AuthResult>;
  onEvent: (event: AuthEvent) => void;
}

/** The second step of a login of an account with a second factor. */
export class MfaLogin {
  constructor(private readonly dependencies: MfaLoginDependencies) {}

  /**
   * After the right password: the mfaToken (single use, five minutes) that completes this login,
   * for this account only, and only while its credentials stay those the password was checked against.
   * `details` (the identity provider signed in with) go into the event of the session it completes.
   */
  async challenge(account: AccountCredentials, details?: LoginDetails): Promise<string> {
    const { database, clock } = this.dependencies;
    const { token, tokenHash } = newOpaqueToken();
    const now = clock.now();
    await database.mfaChallenge.create({
      data: {
        tokenHash,
        userId: account.id,
        credentialsVersion: account.credentialsVersion,
        createdAt: now,
        expiresAt: new Date(now.getTime() + mfaChallengeLifetimeSeconds * 1000),
        loginDetails: details,
      },
    });
    return token;
  }

  /**
   * The usual tokens for a live mfaToken and a current code of its account. The token is held
   * while the code is checked, so concurrent attempts with one token queue and at most one wins;
   * a wrong code counts against the token, which dies after `codeAttemptsPerChallenge` of them.
   */
  async complete(mfaToken: string, code: string, client: ClientInfo): Promise<AuthResult> {
    const { database, users, secondFactor, audit, clock, startSession, onEvent } = this.dependencies;
    const tokenHash = hashOpaqueToken(mfaToken);
    const challenge = await database.mfaChallenge.findUnique({ where: { tokenHash }, select: { userId: true, credentialsVersion: true, loginDetails: true } });
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
      if (await secondFactor.consume(tx, userId, code, now)) return "accepted";
      await tx.mfaChallenge.update({ where: { tokenHash }, data: { usedAt: null, failedAttempts: { increment: 1 } } });
      await audit.record(tx, { kind: "login_failed", userId, actorId: null, client, details: { reason: "mfa_code" } });
      return "rejected";
    });
    if (outcome === "dead") throw new InvalidMfaTokenError();
    if (outcome === "rejected") {
      onEvent("mfa_code_rejected");
      throw new InvalidMfaCodeError();
    }
    const [user] = await users.findByIds([userId]);
    if (!user) throw new InvalidMfaTokenError();
    const details = (challenge.loginDetails ?? undefined) as LoginDetails | undefined;
    return startSession({ user, credentialsVersion: challenge.credentialsVersion }, client, details);
  }

  /** Deletes challenges that expired: they can never complete. */
  async purgeExpired(): Promise<number> {
    const { count } = await this.dependencies.database.mfaChallenge.deleteMany({ where: { expiresAt: { lt: this.dependencies.clock.now() } } });
    return count;
  }
}
