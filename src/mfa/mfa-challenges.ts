import { newOpaqueToken } from "../auth/opaque-tokens.js";
import type { Clock } from "../clock.js";
import type { Database } from "../db/prisma.js";
import type { SecondFactorChallenges } from "../sessions/second-factor-challenges.js";
import type { LoginDetails } from "../sessions/session-lifecycle.js";
import type { FirstFactor } from "../sessions/sign-in-proof.js";
import type { AccountCredentials } from "../sessions/sign-in.js";

export const mfaChallengeLifetimeSeconds = 5 * 60;

/** The mfaTokens of logins waiting for their second factor: the sessions' port to MFA. */
export class MfaChallenges implements SecondFactorChallenges {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
  ) {}

  /**
   * After the right first factor: the mfaToken (single use, five minutes) that completes this login,
   * for this account only, and only while its credentials stay those the first factor was checked
   * against. `details` (how it signed in: a passkey, an identity provider) go into the event of the
   * session it completes.
   */
  async issue(account: AccountCredentials, firstFactor: FirstFactor, details?: LoginDetails): Promise<string> {
    const { token, tokenHash } = newOpaqueToken();
    const now = this.clock.now();
    await this.database.mfaChallenge.create({
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

  /** Deletes challenges that expired: they can never complete. */
  async purgeExpired(): Promise<number> {
    const { count } = await this.database.mfaChallenge.deleteMany({ where: { expiresAt: { lt: this.clock.now() } } });
    return count;
  }
}
