import type { PasswordHasher } from "../auth/password-hasher.js";
import { codePointLength, passwordLength } from "../auth/password-policy.js";
import type { Database } from "../db/prisma.js";
import type { ClientInfo } from "../http/client-info.js";
import type { Logger } from "../observability/logger.js";
import type { PasswordAttemptLimiter } from "../rate-limit/password-attempts.js";

/** An account's password as stored; null for an account made by an identity provider, which has none yet. */
export interface StoredPassword {
  id: string;
  passwordHash: string | null;
}

export interface PasswordCheckDependencies {
  database: Database;
  hasher: PasswordHasher;
  passwordAttempts: PasswordAttemptLimiter;
  logger: Logger;
}

/**
 * Every check of a password against an account's (a login, the current password before a
 * sensitive change): counted within the password-attempt limits, verified, and settled. A hash
 * made with older parameters is replaced once its password is known, as Kratos and Keycloak do.
 */
export class PasswordCheck {
  constructor(private readonly dependencies: PasswordCheckDependencies) {}

  /**
   * Whether `password` is the account's. The attempt is counted against `attemptKey` (the account,
   * or the name tried when `account` is null) and the client first: RATE_LIMITED past the limits,
   * with nothing checked. A name of no account, and an account without a password, cost a
   * verification too, so that timing does not tell them apart. A success is not counted as a
   * failed attempt: the attempt is taken back.
   */
  async matches(
    account: StoredPassword | null,
    attemptKey: string,
    password: string,
    client: ClientInfo,
  ): Promise<boolean> {
    const { hasher, passwordAttempts } = this.dependencies;
    const attempt = await passwordAttempts.begin(attemptKey, client.ip);
    const fits = codePointLength(password) <= passwordLength.max;
    const passwordHash = account?.passwordHash;
    const verified =
      passwordHash && fits
        ? await hasher.verify(passwordHash, password)
        : (await hasher.verify(await hasher.dummyHash(), password)) && false;
    if (!account || !passwordHash || !verified) return false;
    await attempt.succeeded();
    if (hasher.isOutdated(passwordHash)) await this.rehash({ id: account.id, passwordHash }, password);
    return true;
  }

  /**
   * Stores a hash with the current parameters, unless the password changed meanwhile (a change
   * wins). Not a credential change: no session ends. A failure leaves the older hash, which still
   * verifies, and the next success tries again.
   */
  private async rehash(account: { id: string; passwordHash: string }, password: string): Promise<void> {
    const { database, hasher, logger } = this.dependencies;
    try {
      const passwordHash = await hasher.hash(password);
      await database.user.updateMany({
        where: { id: account.id, passwordHash: account.passwordHash },
        data: { passwordHash },
      });
    } catch (error) {
      logger.warn({ err: error }, "could not upgrade a password hash to the current parameters");
    }
  }
}
