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

// Beyond the mail server's own limit: the transaction's statements and commit.
const transactionMarginMs = 5_000;

/**
 * Mailed links. A token is written in the same transaction that mails it, which commits only once
 * the mail server accepted the message: no token outlives a failed delivery (the caller sees
 * SERVICE_UNAVAILABLE and the earlier link, if any, still works).
 */
export class AccountLinks {
  constructor(
    private readonly database: Database,
    private readonly tokens: SingleUseTokens,
    readonly mailer: Mailer,
  ) {}

  /** A transaction given long enough to deliver mail in it (bounded by the transport's own limit). */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.database.$transaction(work, {
      timeout: this.mailer.sendLimitMs + transactionMarginMs,
      ...transactionOptions,
    });
  }

  /** Issues a token of `purpose` for the account in `tx` (`newAccount`: created in `tx`) and mails its link to `to`. */
  async send(
    tx: Transaction,
    user: { id: string; username: string },
    purpose: TokenPurpose,
    to: string,
    { newAccount = false } = {},
  ): Promise<void> {
    const { token, validForSeconds } = await this.tokens.issue(
      tx,
      { userId: user.id, purpose, email: to },
      { newAccount },
    );
    const { page, template } = linkMails[purpose];
    await this.mailer.send(
      to,
      template({ username: user.username, link: this.mailer.link(page, token), validForSeconds }),
    );
  }
}
