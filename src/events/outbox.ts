import { randomUUID } from "node:crypto";
import type { RecordFollower, Writer } from "../audit/security-events.js";
import type { Clock } from "../clock.js";
import { mailReceiver } from "./receivers.js";
import { userEventOf, type UserEvent } from "./user-events.js";

/** The PostgreSQL channel a commit that wrote a message notifies; every instance's worker listens. */
export const outboxChannel = "users_outbox";

/** A mail as it waits in the outbox: sealed, and what it must not outlive. */
export interface QueuedMail {
  id: string;
  /** The account it is for (or about); null for none. */
  userId: string | null;
  sealed: { keyId: string; ciphertext: string };
  /** The link it carries, withdrawn if the mail is given up, and when that link expires anyway. */
  link?: { tokenHash: string; expiresAt: Date };
}

export interface OutboxSettings {
  /** Who gets every user event: the webhook receivers and the stream (see `receivers.ts`). */
  eventReceivers: readonly string[];
  /** How long a message is tried before it is marked failed. */
  maxAgeSeconds: number;
}

interface Message {
  id: string;
  type: string;
  userId: string | null;
  at: Date;
  body: string | null;
  mail?: QueuedMail;
  /** Deliveries of one key go out one at a time, in order; null for none. */
  orderingKey: string | null;
  receivers: readonly string[];
  giveUpAt: Date;
}

/**
 * The transactional outbox: user events and mail are rows written by the transaction of the action
 * they tell of, so a committed action always has them and a rolled-back one never does. Delivery
 * workers (`delivery-worker.ts`) send them afterwards, off the request path.
 *
 * An account's events are delivered in the order of their delivery ids. Emit an event after the
 * statement that changes the account's row: the row lock then makes the ids follow the order in
 * which the changes commit.
 */
export class Outbox {
  constructor(
    private readonly settings: OutboxSettings,
    private readonly clock: Clock,
  ) {}

  /** For `SecurityEvents`: the user event a recorded security event stands for, in the same writer. */
  readonly follow: RecordFollower = async (writer, event, at) => {
    const userEvent = userEventOf(event, at);
    if (userEvent) await this.emit(writer, userEvent, at);
  };

  /** Writes the event with a delivery to each event receiver; nothing when none is configured. */
  async emit(writer: Writer, event: UserEvent, at = this.clock.now()): Promise<void> {
    const receivers = this.settings.eventReceivers;
    if (receivers.length === 0) return;
    const id = randomUUID();
    const body = JSON.stringify({
      id,
      type: event.type,
      timestamp: at.toISOString(),
      userId: event.userId,
      data: event.data,
    });
    const giveUpAt = this.giveUpAt(at);
    await this.insert(writer, {
      id,
      type: event.type,
      userId: event.userId,
      at,
      body,
      orderingKey: event.userId,
      receivers,
      giveUpAt,
    });
  }

  /** Writes a sealed mail for the mail server; given up with the link it carries, if that expires first. */
  async queueMail(writer: Writer, mail: QueuedMail): Promise<void> {
    const at = this.clock.now();
    const expiry = mail.link?.expiresAt;
    const giveUpAt = expiry && expiry < this.giveUpAt(at) ? expiry : this.giveUpAt(at);
    await this.insert(writer, {
      id: mail.id,
      type: "mail",
      userId: mail.userId,
      at,
      body: null,
      mail,
      orderingKey: null,
      receivers: [mailReceiver],
      giveUpAt,
    });
  }

  /** When a message written (or sent again) at `at` is given up if still undelivered. */
  giveUpAt(at: Date): Date {
    return new Date(at.getTime() + this.settings.maxAgeSeconds * 1000);
  }

  /** The message, its deliveries and the notification that wakes the workers, in one statement. */
  private async insert(writer: Writer, message: Message): Promise<void> {
    const { id, type, userId, at, body, mail, orderingKey, receivers, giveUpAt } = message;
    await writer.$executeRaw`WITH message AS (
        INSERT INTO outbox_messages (id, type, user_id, created_at, body, mail_ciphertext, mail_key_id, link_token_hash)
        VALUES (${id}::uuid, ${type}, ${userId}::uuid, ${at}, ${body}, ${mail?.sealed.ciphertext ?? null}, ${mail?.sealed.keyId ?? null},
          ${mail?.link?.tokenHash ?? null})
      ), deliveries AS (
        INSERT INTO outbox_deliveries (message_id, receiver, ordering_key, created_at, next_attempt_at, give_up_at)
        SELECT ${id}::uuid, receiver, ${orderingKey}::uuid, ${at}, ${at}, ${giveUpAt} FROM unnest(${receivers}::text[]) AS receiver
      )
      SELECT pg_notify(${outboxChannel}, '')`;
  }
}
