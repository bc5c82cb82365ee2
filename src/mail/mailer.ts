import { ServiceUnavailableError } from "../errors/errors.js";
import type { Logger } from "../observability/logger.js";
import { isEmailAddress } from "../users/identity.js";
import type { MailTransport } from "./mail-transport.js";
import type { MailContent } from "./templates.js";

export interface MailerSettings {
  from: string;
  /** The app's address, no trailing slash: links go to its pages. */
  appUrl: string;
}

/** The app pages that receive account links, with the token as `?token=`. */
export type LinkPage = "verify-email" | "reset-password";

/** Sends account mail; a message the transport does not accept is SERVICE_UNAVAILABLE. */
export class Mailer {
  constructor(
    private readonly transport: MailTransport,
    private readonly settings: MailerSettings,
  ) {}

  get sendLimitMs(): number {
    return this.transport.sendLimitMs;
  }

  link(page: LinkPage, token: string): string {
    return `${this.settings.appUrl}/${page}?token=${encodeURIComponent(token)}`;
  }

  /**
   * A notice of something that has already happened (a password reset, MFA turned on or off): a
   * failed delivery cannot undo it, so it is logged, not thrown.
   */
  async notify(to: string, content: MailContent, logger: Logger): Promise<void> {
    await this.send(to, content).catch((error: unknown) =>
      logger.error({ err: error, subject: content.subject }, "notice not delivered"),
    );
  }

  /**
   * Sends to `to`, a bare address. Anything else (a row stored before addresses had to be bare) is
   * never mailed: the mail could reach another mailbox than the one the account names.
   */
  async send(to: string, content: MailContent): Promise<void> {
    try {
      if (!isEmailAddress(to)) throw new Error("not a bare e-mail address: mail to it is not sent");
      await this.transport.send({ from: this.settings.from, to, ...content });
    } catch (error) {
      throw new ServiceUnavailableError("mail", error);
    }
  }
}
