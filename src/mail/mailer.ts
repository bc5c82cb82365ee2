import type { Transaction } from "../db/prisma.js";
import { ServiceUnavailableError } from "../errors/errors.js";
import type { Logger } from "../observability/logger.js";
import { isEmailAddress } from "../users/identity.js";
import type { Mail } from "./mail-transport.js";
import type { MailContent } from "./templates.js";

export interface MailerSettings {
  from: string;
  /** The app's address, no trailing slash: links go to its pages. */
  appUrl: string;
}

/** The app pages that receive account links, with the token as `?token=`. */
export type LinkPage = "verify-email" | "reset-password";

/** What a queued mail is for: its account, and the link it carries (withdrawn if the mail is given up). */
export interface MailOptions {
  userId: string | null;
  link?: { tokenHash: string; expiresAt: Date };
}

/** Where mail waits for its delivery: written in the caller's transaction, sent once it commits. */
export interface MailQueue {
  queue(tx: Transaction, mail: Mail, options: MailOptions): Promise<void>;
}

/**
 * Account mail. Each message is queued in the transaction of the action it tells of (with the
 * link's token, when it carries one) and delivered after the commit, with retries: no request
 * waits for the mail server, and no database connection is held while it is talked to.
 */
export class Mailer {
  constructor(
    private readonly queue: MailQueue,
    private readonly settings: MailerSettings,
  ) {}

  link(page: LinkPage, token: string): string {
    return `${this.settings.appUrl}/${page}?token=${encodeURIComponent(token)}`;
  }

  /**
   * Queues mail to `to`, a bare address. Anything else (a row stored before addresses had to be
   * bare) is never mailed, since the mail could reach another mailbox than the one the account
   * names: SERVICE_UNAVAILABLE, and the transaction does not commit.
   */
  async send(tx: Transaction, to: string, content: MailContent, options: MailOptions): Promise<void> {
    if (!isEmailAddress(to)) {
      throw new ServiceUnavailableError("mail", new Error("not a bare e-mail address: mail to it is not sent"));
    }
    await this.queue.queue(tx, { from: this.settings.from, to, ...content }, options);
  }

  /**
   * A notice of what the transaction does (a password reset, MFA or a passkey added or removed): it
   * goes with the change, and an address that cannot be mailed does not stop the change, so that is
   * logged instead.
   */
  async notify(tx: Transaction, to: string, content: MailContent, options: MailOptions, logger: Logger): Promise<void> {
    if (isEmailAddress(to)) return this.send(tx, to, content, options);
    logger.error({ subject: content.subject }, "notice not delivered: the account's address is not a bare one");
  }
}
