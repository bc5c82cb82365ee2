import { EncryptionKeyError } from "../auth/encryption-keys.js";
import type { Mail, MailTransport } from "../mail/mail-transport.js";
import { isEmailAddress } from "../users/identity.js";
import { DeliveryError, failureReason, type DeliveryChannel } from "./delivery-channel.js";
import type { OutboxMessageRow } from "./delivery-store.js";
import type { OutboxMailQueue } from "./mail-queue.js";

/** SMTP's permanent failures (5xx): the server will not take this message, however often it is sent. */
function isPermanentRefusal(error: unknown): boolean {
  const code = (error as { responseCode?: unknown })?.responseCode;
  return typeof code === "number" && code >= 500 && code < 600;
}

/**
 * Hands queued mail to the transport (SMTP, or `.eml` files). A refusal by the mail server (5xx)
 * or a mail that cannot be opened any more is given up at once; anything else (a server down or
 * silent, a 4xx) is tried again later.
 */
export class MailChannel implements DeliveryChannel {
  readonly limitMs: number;

  constructor(
    private readonly transport: MailTransport,
    private readonly queue: OutboxMailQueue,
  ) {
    this.limitMs = transport.sendLimitMs;
  }

  async deliver(message: OutboxMessageRow): Promise<void> {
    const mail = this.open(message);
    const logged = { subject: mail.subject };
    // Checked when it was queued too; the address is what the mail server is told, so again here.
    if (!isEmailAddress(mail.to)) throw new DeliveryError("not a bare e-mail address", true, logged);
    try {
      await this.transport.send(mail);
    } catch (error) {
      const permanent = isPermanentRefusal(error);
      const code = (error as { responseCode?: number }).responseCode;
      throw new DeliveryError(code ? `SMTP ${code}` : failureReason(error), permanent, logged);
    }
  }

  private open(message: OutboxMessageRow): Mail {
    if (!message.mailCiphertext || !message.mailKeyId) throw new DeliveryError("the mail's content is gone", true);
    try {
      return this.queue.open({ id: message.id, keyId: message.mailKeyId, ciphertext: message.mailCiphertext });
    } catch (error) {
      if (error instanceof EncryptionKeyError) throw new DeliveryError(`cannot be opened: ${error.message}`, true);
      throw error;
    }
  }

  async close(): Promise<void> {}
}
