import { randomUUID } from "node:crypto";
import type { Writer } from "../audit/security-events.js";
import type { EncryptionKeys } from "../auth/encryption-keys.js";
import type { Mail } from "../mail/mail-transport.js";
import type { MailOptions, MailQueue } from "../mail/mailer.js";
import type { Outbox } from "./outbox.js";

/** A mail as the outbox stores it: sealed, bound to its row. */
export interface SealedMail {
  id: string;
  keyId: string;
  ciphertext: string;
}

/** The authenticated data of a queued mail: its ciphertext opens on its own row only. */
function mailContext(id: string): string {
  return `outbox-mail:${id}`;
}

/**
 * Mail through the outbox. The whole message (its links included) is sealed under ENCRYPTION_KEYS
 * before it is written, so the outbox holds no link a database dump could use; the tokens
 * themselves are stored only hashed, in their own table. The ciphertext is cleared once the mail is
 * delivered or given up.
 */
export class OutboxMailQueue implements MailQueue {
  constructor(
    private readonly outbox: Outbox,
    private readonly keys: EncryptionKeys,
  ) {}

  async queue(writer: Writer, mail: Mail, options: MailOptions): Promise<void> {
    const id = randomUUID();
    const sealed = this.keys.seal(JSON.stringify(mail), mailContext(id));
    await this.outbox.queueMail(writer, { id, userId: options.userId, sealed, link: options.link });
  }

  /** The mail as queued; EncryptionKeyError when its key is no longer listed or the row was altered. */
  open(sealed: SealedMail): Mail {
    return JSON.parse(
      this.keys.open({ keyId: sealed.keyId, ciphertext: sealed.ciphertext }, mailContext(sealed.id)),
    ) as Mail;
  }
}
