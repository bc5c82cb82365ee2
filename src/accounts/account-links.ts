import { transactionOptions, type Database, type Transaction } from "../db/prisma.js";
import type { LinkPage, Mailer } from "../mail/mailer.js";
import { templates } from "../mail/templates.js";
import type { SingleUseTokens, TokenPurpose } from "./single-use-tokens.js";

/** Which app page each link opens, and the mail that carries it. */
const linkMails: Record<TokenPurpose, { page: LinkPage; template: typeof templates.verifyEmail }> = {
  verify_email: { page: "verify-email", template: templates.verifyEmail },
  change_email: { page: "verify-email", template: templates.confirmNewEmail },
  reset_password: { page: "reset-password", template: templates.resetPassword },
};

/**
 * Mailed links. A token is written in the same transaction as the mail that carries it (queued in
 * the outbox): both commit or neither does. A mail that cannot be delivered in the end takes its
 * link with it (the token is deleted), so no working link outlives its mail.
 */
export class AccountLinks {
  constructor(
    private readonly database: Database,
    private readonly tokens: SingleUseTokens,
    readonly mailer: Mailer,
  ) {}

  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.database.$transaction(work, transactionOptions);
  }

  /** Issues a token of `purpose` for the account in `tx` (`newAccount`: created in `tx`) and queues its link's mail to `to`. */
  async send(
    tx: Transaction,
    user: { id: string; username: string },
    purpose: TokenPurpose,
    to: string,
    { newAccount = false } = {},
  ): Promise<void> {
    const issued = await this.tokens.issue(tx, { userId: user.id, purpose, email: to }, { newAccount });
    const { page, template } = linkMails[purpose];
    const link = this.mailer.link(page, issued.token);
    const content = template({ username: user.username, link, validForSeconds: issued.validForSeconds });
    await this.mailer.send(tx, to, content, {
      userId: user.id,
      link: { tokenHash: issued.tokenHash, expiresAt: issued.expiresAt },
    });
  }
}
