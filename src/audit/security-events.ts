import type { Clock } from "../clock.js";
import type { Database, Transaction } from "../db/prisma.js";
import type { LaggingReads } from "../db/read-replicas.js";
import type { Prisma } from "../generated/prisma/client.js";
import {
  decodeCursor,
  encodeCursor,
  isBigintId,
  pageLimit,
  toConnection,
  type Connection,
} from "../graphql/pagination.js";
import { truncateUserAgent, type ClientInfo } from "../http/client-info.js";
import type { AuditedEvent } from "../observability/events.js";

/** What the audit log records: the audited events of the one vocabulary, by name. */
export type SecurityEventKind = AuditedEvent;

export interface SecurityEventInput {
  kind: SecurityEventKind;
  /** The account the event is about; null only when there is none. */
  userId: string | null;
  /** The authenticated account that acted (the user, an admin); null when none was. */
  actorId: string | null;
  /** Where the request came from; absent for the command line and start-up. */
  client?: ClientInfo;
  /** What else explains the event (a lock reason, roles added and removed): never a secret. */
  details?: Prisma.InputJsonObject;
  /**
   * The account's fields as the action left them (a new address, the roles now), for the user event
   * the kind is published as (`published` in the vocabulary); not stored in the audit log.
   */
  changes?: Prisma.InputJsonObject;
}

/** What else is written with each recorded event, by the same writer (the outbox's user event). */
export type RecordFollower = (writer: Writer, event: SecurityEventInput, at: Date) => Promise<void>;

export interface SecurityEventRecord {
  id: string;
  kind: string;
  at: Date;
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** Anything that can write: a transaction (the usual case) or the database itself. */
export type Writer = Pick<Transaction, "$executeRaw">;

const cursorTag = "event";
const maxIpLength = 64;

/**
 * The security audit log: an append-only `security_events` table (a trigger refuses updates and
 * deletes outside `purgeOlderThan`).
 *
 * Record an event with `record(tx, event)` INSIDE the transaction that performs the action, so
 * that both commit or neither does (a failed write fails the action):
 *
 *   await database.$transaction(async (tx) => {
 *     await tx.user.update(…);
 *     await audit.record(tx, { kind: "password_reset", userId, actorId: null, client });
 *   });
 *
 * One action, one event: an action that ends sessions as a consequence (a password change, a
 * lock) records its own kind only, and an action that changed nothing records nothing. A sign-in
 * past MAX_SESSIONS_PER_ACCOUNT records `session_ended` too: ending sessions is not what it asked.
 *
 * `follow` runs after each record, with the same writer: the outbox writes there the user event
 * the kind stands for, so that other services learn of the action exactly when it commits.
 */
export class SecurityEvents {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    /** The log may lag when read: a replica serves it when one can. */
    private readonly laggingReads: LaggingReads,
    private readonly follow?: RecordFollower,
  ) {}

  async record(writer: Writer, event: SecurityEventInput): Promise<void> {
    const { at, kind, userId, actorId, ip, userAgent, details } = this.row(event);
    // Raw: a statement inside the action's transaction, without the cost of a model query.
    await writer.$executeRaw`INSERT INTO security_events (at, kind, user_id, actor_id, ip, user_agent, details)
      VALUES (${at}, ${kind}, ${userId}::uuid, ${actorId}::uuid, ${ip}, ${userAgent}, ${details === undefined ? null : JSON.stringify(details)}::jsonb)`;
    await this.follow?.(writer, event, at);
  }

  /** The columns of an event as stored; for statements that write an event alongside other rows. */
  row(event: SecurityEventInput) {
    return {
      at: this.clock.now(),
      kind: event.kind,
      userId: event.userId,
      actorId: event.actorId,
      ip: event.client?.ip?.slice(0, maxIpLength) ?? null,
      userAgent: truncateUserAgent(event.client?.userAgent),
      details: event.details,
    };
  }

  /** An account's events, newest first, in pages: one SQL statement per page. */
  async forUser(userId: string, first: number | null, after?: string | null): Promise<Connection<SecurityEventRecord>> {
    const limit = pageLimit(first);
    const before = after == null ? undefined : BigInt(decodeCursor(cursorTag, after, isBigintId));
    const rows = await this.laggingReads.read((database) =>
      database.securityEvent.findMany({
        where: { userId, ...(before === undefined ? {} : { id: { lt: before } }) },
        orderBy: { id: "desc" },
        take: limit + 1,
        select: { id: true, kind: true, at: true, actorId: true, ip: true, userAgent: true },
      }),
    );
    return toConnection(
      rows.map((row) => ({ ...row, id: row.id.toString() })),
      limit,
      (event) => encodeCursor(cursorTag, event.id),
    );
  }

  /** Deletes events older than the retention; the only deletion the table accepts. */
  async purgeOlderThan(retentionSeconds: number): Promise<number> {
    const before = new Date(this.clock.now().getTime() - retentionSeconds * 1000);
    const [, { count }] = await this.database.$transaction([
      this.database.$executeRaw`SELECT set_config('users.purging_security_events', 'on', true)`,
      this.database.securityEvent.deleteMany({ where: { at: { lt: before } } }),
    ]);
    return count;
  }
}
