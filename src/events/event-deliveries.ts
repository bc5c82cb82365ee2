import type { Clock } from "../clock.js";
import type { Database } from "../db/prisma.js";
import { BadUserInputError } from "../errors/errors.js";
import type { OutboxDeliveryStatus } from "../generated/prisma/enums.js";
import {
  decodeCursor,
  encodeCursor,
  isBigintId,
  pageLimit,
  toConnection,
  type Connection,
} from "../graphql/pagination.js";
import { outboxChannel, type Outbox } from "./outbox.js";
import { mailReceiver } from "./receivers.js";

/** An event's delivery as admins see it. */
export interface EventDeliveryRecord {
  id: string;
  eventId: string;
  type: string;
  receiver: string;
  status: OutboxDeliveryStatus;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date | null;
}

const statuses: readonly OutboxDeliveryStatus[] = ["pending", "delivered", "failed"];
const cursorTag = "delivery";

interface DeliveryRow {
  id: bigint;
  messageId: string;
  receiver: string;
  status: OutboxDeliveryStatus;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date;
  message: { type: string };
}

function toRecord(row: DeliveryRow): EventDeliveryRecord {
  return {
    id: row.id.toString(),
    eventId: row.messageId,
    type: row.message.type,
    receiver: row.receiver,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    nextAttemptAt: row.status === "pending" ? row.nextAttemptAt : null,
  };
}

const columns = {
  id: true,
  messageId: true,
  receiver: true,
  status: true,
  attempts: true,
  lastError: true,
  nextAttemptAt: true,
  message: { select: { type: true } },
} as const;

/**
 * What admins see of event deliveries, and how they send one again. Mail is not among them: a
 * mail's content is gone once it is settled, and its link with it if it failed.
 */
export class EventDeliveries {
  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
    private readonly clock: Clock,
  ) {}

  /** Newest first, optionally of one status: one SQL statement per page. */
  async list(
    status: string | null | undefined,
    first: number | null,
    after?: string | null,
  ): Promise<Connection<EventDeliveryRecord>> {
    if (status != null && !statuses.includes(status as OutboxDeliveryStatus)) {
      throw new BadUserInputError("status", `status is one of ${statuses.join(", ")}.`);
    }
    const limit = pageLimit(first);
    const before = after == null ? undefined : BigInt(decodeCursor(cursorTag, after, isBigintId));
    const rows = await this.database.outboxDelivery.findMany({
      where: {
        receiver: { not: mailReceiver },
        ...(status == null ? {} : { status: status as OutboxDeliveryStatus }),
        ...(before === undefined ? {} : { id: { lt: before } }),
      },
      orderBy: { id: "desc" },
      take: limit + 1,
      select: columns,
    });
    return toConnection(rows.map(toRecord), limit, (delivery) => encodeCursor(cursorTag, delivery.id));
  }

  /**
   * Sends the event to the delivery's receiver again, as it was (same id, same body), however it
   * went before: a settled delivery is pending again with a new EVENT_DELIVERY_MAX_AGE, a pending
   * one is due now (unless an attempt is under way). The account's later events to that receiver
   * wait behind it.
   */
  async redeliver(id: string): Promise<EventDeliveryRecord> {
    if (!isBigintId(id)) throw new BadUserInputError("id", "No event delivery has this id.");
    const now = this.clock.now();
    const deliveryId = BigInt(id);
    // The notification wakes every instance's worker when this commits.
    await this.database.$transaction([
      this.database.outboxDelivery.updateMany({
        where: {
          id: deliveryId,
          receiver: { not: mailReceiver },
          OR: [{ status: { not: "pending" } }, { claimId: null }],
        },
        data: {
          status: "pending",
          nextAttemptAt: now,
          giveUpAt: this.outbox.giveUpAt(now),
          finishedAt: null,
          claimId: null,
          claimedUntil: null,
        },
      }),
      this.database.$executeRaw`SELECT pg_notify(${outboxChannel}, '')`,
    ]);
    const row = await this.database.outboxDelivery.findFirst({
      where: { id: deliveryId, receiver: { not: mailReceiver } },
      select: columns,
    });
    if (!row) throw new BadUserInputError("id", "No event delivery has this id.");
    return toRecord(row);
  }
}
