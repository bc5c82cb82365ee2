import type { SecurityEvents } from "../audit/security-events.js";
import { effectiveRoles, isAdmin, normalizeRoles } from "../auth/roles.js";
import type { Viewer } from "../auth/viewer.js";
import type { Clock } from "../clock.js";
import type { Database, Transaction } from "../db/prisma.js";
import type { LaggingReads } from "../db/read-replicas.js";
import { BadUserInputError } from "../errors/errors.js";
import { decodeCursor, encodeCursor, pageLimit, toConnection, type Connection } from "../graphql/pagination.js";
import type { ClientInfo } from "../http/client-info.js";
import type { SessionLifecycle } from "../sessions/session-lifecycle.js";
import { foldIdentifier, isUsernameKey, parseUserId } from "../users/identity.js";
import { publicUserColumns, type UserRecord } from "../users/users.service.js";
import { assertAnotherAdmin, withAdministrationLock } from "./administration-lock.js";

export interface AdminServiceDependencies {
  database: Database;
  /** The account list may lag: a replica serves it when one can. */
  laggingReads: LaggingReads;
  lifecycle: SessionLifecycle;
  audit: SecurityEvents;
  clock: Clock;
}

const userCursorTag = "user";
const maxQueryLength = 254;
const maxReasonLength = 500;

/**
 * What admins do to accounts. Every change records its event in its own transaction, changes
 * nothing (and records nothing) when the account is already as asked, and ends the account's
 * sessions when it takes something away (a lock, a role).
 */
export class AdminService {
  constructor(private readonly dependencies: AdminServiceDependencies) {}

  /** Accounts by username, optionally those whose username or e-mail address starts with `query`: one SQL statement. */
  async listUsers(
    first: number | null,
    after: string | null | undefined,
    query: string | null | undefined,
  ): Promise<Connection<UserRecord>> {
    const limit = pageLimit(first);
    const afterKey = after == null ? undefined : decodeCursor(userCursorTag, after, isUsernameKey);
    const prefix = foldIdentifier(query ?? "");
    if (prefix.length > maxQueryLength)
      throw new BadUserInputError("query", `Search with at most ${maxQueryLength} characters.`);
    // Prisma's startsWith is a LIKE that leaves the pattern's wildcards to the caller.
    const pattern = prefix.replace(/[\\%_]/g, "\\$&");
    const rows = await this.dependencies.laggingReads.read((database) =>
      database.user.findMany({
        where: {
          ...(afterKey === undefined ? {} : { usernameKey: { gt: afterKey } }),
          ...(prefix ? { OR: [{ usernameKey: { startsWith: pattern } }, { email: { startsWith: pattern } }] } : {}),
        },
        orderBy: { usernameKey: "asc" },
        take: limit + 1,
        select: { ...publicUserColumns, usernameKey: true },
      }),
    );
    const page = toConnection(rows, limit, (row) => encodeCursor(userCursorTag, row.usernameKey));
    return {
      ...page,
      edges: page.edges.map(({ cursor, node: { usernameKey: _key, ...user } }) => ({ cursor, node: user })),
    };
  }

  /** A locked account cannot log in or refresh; its sessions end now. LAST_ADMIN for the last active admin. */
  async lock(actor: Viewer, id: string, reason: string | null | undefined, client: ClientInfo): Promise<UserRecord> {
    const userId = parseUserId(id, "id");
    const lockedReason = reason?.trim() || null;
    if (lockedReason && lockedReason.length > maxReasonLength) {
      throw new BadUserInputError("reason", `Give a reason of at most ${maxReasonLength} characters.`);
    }
    const { database, lifecycle, audit, clock } = this.dependencies;
    return withAdministrationLock(database, async (tx) => {
      const target = await findAccount(tx, userId);
      if (target.lockedAt) return target;
      if (isAdmin(target.roles)) await assertAnotherAdmin(tx, userId);
      const locked = await tx.user.update({
        where: { id: userId },
        data: { lockedAt: clock.now(), lockedReason },
        select: publicUserColumns,
      });
      await audit.record(tx, {
        kind: "locked",
        userId,
        actorId: actor.userId,
        client,
        details: lockedReason ? { reason: lockedReason } : undefined,
      });
      // After the update: the account's row is held, so no login can start a session this would miss.
      const ending = await lifecycle.endWithin(tx, { userId }, "locked");
      await ending.revoke();
      return locked;
    });
  }

  async unlock(actor: Viewer, id: string, client: ClientInfo): Promise<UserRecord> {
    const userId = parseUserId(id, "id");
    const { database, audit } = this.dependencies;
    return withAdministrationLock(database, async (tx) => {
      const target = await findAccount(tx, userId);
      if (!target.lockedAt) return target;
      const unlocked = await tx.user.update({
        where: { id: userId },
        data: { lockedAt: null, lockedReason: null },
        select: publicUserColumns,
      });
      await audit.record(tx, { kind: "unlocked", userId, actorId: actor.userId, client });
      return unlocked;
    });
  }

  /**
   * Replaces the account's roles (`user` is implied and never stored). New tokens carry them at
   * once; when a role is taken away the account's sessions end, so no token keeps it.
   */
  async setRoles(actor: Viewer, id: string, roles: readonly string[], client: ClientInfo): Promise<UserRecord> {
    const userId = parseUserId(id, "id");
    const next = normalizeRoles(roles);
    const { database, lifecycle, audit } = this.dependencies;
    return withAdministrationLock(database, async (tx) => {
      const target = await findAccount(tx, userId);
      const added = next.filter((role) => !target.roles.includes(role));
      const removed = target.roles.filter((role) => !next.includes(role));
      if (added.length === 0 && removed.length === 0) return target;
      if (isAdmin(target.roles) && !isAdmin(next) && !target.lockedAt) await assertAnotherAdmin(tx, userId);
      const updated = await tx.user.update({ where: { id: userId }, data: { roles: next }, select: publicUserColumns });
      await audit.record(tx, {
        kind: "roles_changed",
        userId,
        actorId: actor.userId,
        client,
        details: { added, removed },
        changes: { roles: effectiveRoles(next) },
      });
      if (removed.length > 0) await (await lifecycle.endWithin(tx, { userId }, "roles_changed")).revoke();
      return updated;
    });
  }

  /** Ends every session of the account; false when it had none (or there is no such account). */
  async revokeSessions(actor: Viewer, id: string, client: ClientInfo): Promise<boolean> {
    const userId = parseUserId(id, "id");
    const { lifecycle, audit } = this.dependencies;
    const reason = "revoked_by_admin";
    const { ended } = await lifecycle.end({ userId }, reason, async (tx, count) => {
      if (count > 0) {
        await audit.record(tx, {
          kind: "session_ended",
          userId,
          actorId: actor.userId,
          client,
          details: { reason, count },
        });
      }
    });
    return ended > 0;
  }
}

async function findAccount(tx: Transaction, userId: string): Promise<UserRecord> {
  const account = await tx.user.findUnique({ where: { id: userId }, select: publicUserColumns });
  if (!account) throw new BadUserInputError("id", "No account has this id.");
  return account;
}
