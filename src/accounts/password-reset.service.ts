import type { SecurityEvents } from "../audit/security-events.js";
import type { PasswordHasher } from "../auth/password-hasher.js";
import { assertStrongPassword } from "../auth/password-policy.js";
import type { Viewer } from "../auth/viewer.js";
import type { Clock } from "../clock.js";
import type { Database, Transaction } from "../db/prisma.js";
import { InvalidTokenError } from "../errors/errors.js";
import type { ClientInfo } from "../http/client-info.js";
import type { Mailer } from "../mail/mailer.js";
import { templates } from "../mail/templates.js";
import type { Logger } from "../observability/logger.js";
import type { MailRequestLimiter } from "../rate-limit/mail-requests.js";
import type { SessionLifecycle } from "../sessions/session-lifecycle.js";
import { normalizeEmail } from "../users/identity.js";
import type { AccountLinks } from "./account-links.js";
import type { SingleUseTokens } from "./single-use-tokens.js";

export interface PasswordResetServiceDependencies {
  database: Database;
  links: AccountLinks;
  tokens: SingleUseTokens;
  lifecycle: SessionLifecycle;
  hasher: PasswordHasher;
  mailRequests: MailRequestLimiter;
  mailer: Mailer;
  audit: SecurityEvents;
  clock: Clock;
  logger: Logger;
  /** What else the reset's proof of the mailbox overrides, in its transaction (identities and passkeys added before anyone proved the address). */
  onMailboxProven: (tx: Transaction, userId: string, client: ClientInfo) => Promise<void>;
}

/** "Forgot your password": a link mailed to the account's address, and the new password it sets. */
export class PasswordResetService {
  /** Links still being issued: the answer does not wait for them (see `requestPasswordReset`). */
  private readonly issuing = new Set<Promise<void>>();

  constructor(private readonly dependencies: PasswordResetServiceDependencies) {}

  /**
   * Always true. The answer comes before the link is issued (`afterAnswer` starts that once it is
   * written), after the same work (limits, one lookup) whether the address is known or not, so its
   * timing tells nobody who has an account. The link and its mail are then written in one
   * transaction, and the outbox delivers the mail; a failure is logged.
   */
  async requestPasswordReset(
    email: string,
    client: ClientInfo,
    afterAnswer: (task: () => void) => void = (task) => setImmediate(task),
  ): Promise<boolean> {
    const { database, links, mailRequests, logger } = this.dependencies;
    const address = normalizeEmail(email);
    await mailRequests.attempt(`address:${address}`, client.ip);
    const user = await database.user.findUnique({
      where: { email: address },
      select: { id: true, username: true, email: true },
    });
    if (user) {
      // Even the start of the transaction would lengthen a known address's answer.
      afterAnswer(() => {
        const issuing = links
          .transaction((tx) => links.send(tx, user, "reset_password", user.email))
          .catch((error: unknown) => logger.error({ err: error }, "password reset link not issued"))
          .finally(() => this.issuing.delete(issuing));
        this.issuing.add(issuing);
      });
    }
    return true;
  }

  /**
   * Sets the password a reset link was mailed for, marks the address verified (the link proved it),
   * ends every session of the account, and tells the owner by mail (queued with the change).
   */
  async resetPassword(token: string, newPassword: string, viewer: Viewer | null, client: ClientInfo): Promise<boolean> {
    const { database, tokens, lifecycle, hasher, mailer, audit, clock, logger, onMailboxProven } = this.dependencies;
    assertStrongPassword(newPassword, "newPassword");
    // A wrong token must not cost a password hash.
    const grant = await tokens.inspect(database, token, ["reset_password"], viewer?.userId);
    const passwordHash = await hasher.hash(newPassword);
    // Whatever the account's credentials were: the link, not a password, proves the owner.
    const user = await lifecycle.changeCredentials(grant.userId, undefined, "password_reset", async (tx) => {
      await tokens.redeem(tx, token, ["reset_password"], grant.userId);
      const { count } = await tx.user.updateMany({
        where: { id: grant.userId, email: grant.email },
        data: { passwordHash, passwordTentative: false, emailVerifiedAt: clock.now() },
      });
      // The account's address changed since the link was sent to the earlier one.
      if (count === 0) throw new InvalidTokenError();
      // The link, not a signed-in account, acted: an actor only if one was signed in as well.
      await audit.record(tx, { kind: "password_reset", userId: grant.userId, actorId: viewer?.userId ?? null, client });
      await onMailboxProven(tx, grant.userId, client);
      const user = await tx.user.findUniqueOrThrow({
        where: { id: grant.userId },
        select: { username: true, email: true },
      });
      const notice = templates.passwordWasReset({ username: user.username });
      await mailer.notify(tx, user.email, notice, { userId: grant.userId }, logger);
      return user;
    });
    // The account was deleted since the link was inspected.
    if (!user) throw new InvalidTokenError();
    return true;
  }

  /** Resolves once every link issuing started so far has finished (shutdown waits for them). */
  async settled(): Promise<void> {
    await Promise.all([...this.issuing]);
  }
}
