import type { SecurityEvents } from "../audit/security-events.js";
import type { Viewer } from "../auth/viewer.js";
import type { Database, Transaction } from "../db/prisma.js";
import { BadUserInputError, LastSignInMethodError } from "../errors/errors.js";
import type { ClientInfo } from "../http/client-info.js";
import type { Mailer } from "../mail/mailer.js";
import { templates } from "../mail/templates.js";
import type { Logger } from "../observability/logger.js";
import { isUserId } from "../users/identity.js";
import { hasSignInMethodOtherThan } from "../users/sign-in-methods.js";
import { normalizePasskeyName } from "./passkey-names.js";
import type { PasskeyRecord, PasskeyStore } from "./passkey-store.js";

export interface PasskeyManagementDependencies {
  database: Database;
  store: PasskeyStore;
  audit: SecurityEvents;
  /** Tells the owner a passkey was removed (queued with the removal). */
  mailer: Mailer;
  logger: Logger;
}

/** Passkey ids are UUIDs, like user ids: anything else names none. */
const isPasskeyId = isUserId;

/** The owner's list of passkeys, and renaming or removing one. */
export class PasskeyManagement {
  constructor(private readonly dependencies: PasskeyManagementDependencies) {}

  list(userId: string): Promise<PasskeyRecord[]> {
    return this.dependencies.store.listOf(userId);
  }

  /** BAD_USER_INPUT on `id` when it is not one of the viewer's passkeys, on `name` when it cannot be shown. */
  async rename(viewer: Viewer, id: string, name: string): Promise<PasskeyRecord> {
    const passkeyName = normalizePasskeyName(name);
    const renamed = isPasskeyId(id)
      ? await this.dependencies.database.passkey.updateManyAndReturn({
          where: { id: id.toLowerCase(), userId: viewer.userId },
          data: { name: passkeyName },
        })
      : [];
    if (!renamed[0]) throw new BadUserInputError("id", "No passkey of yours has this id.");
    return renamed[0];
  }

  /**
   * Removes one of the viewer's passkeys (false when there is no such passkey of theirs), unless it
   * is the account's last way to sign in (LAST_SIGN_IN_METHOD); records it and mails the owner, in
   * the removal's transaction.
   */
  async remove(viewer: Viewer, id: string, client: ClientInfo): Promise<boolean> {
    const { database, audit, mailer, logger } = this.dependencies;
    if (!isPasskeyId(id)) return false;
    const passkeyId = id.toLowerCase();
    const { userId } = viewer;
    return database.$transaction(async (tx) => {
      // Locks the account's row first: of two removals at once, the second counts what the first left.
      const othersLeft = await hasSignInMethodOtherThan(tx, userId, { kind: "passkey", id: passkeyId });
      const passkey = await tx.passkey.findFirst({ where: { id: passkeyId, userId }, select: { name: true } });
      if (!passkey) return false;
      if (!othersLeft) throw new LastSignInMethodError();
      await tx.passkey.delete({ where: { id: passkeyId } });
      await audit.record(tx, {
        kind: "passkey_removed",
        userId,
        actorId: userId,
        client,
        details: { passkeyId, name: passkey.name },
      });
      const owner = await tx.user.findUniqueOrThrow({
        where: { id: userId },
        select: { username: true, email: true, passwordHash: true },
      });
      const notice = templates.passkeyRemoved({
        username: owner.username,
        passkeyName: passkey.name,
        hasPassword: owner.passwordHash !== null,
      });
      await mailer.notify(tx, owner.email, notice, { userId }, logger);
      return true;
    });
  }

  /** The signed-in owner proved the account's address: the passkeys added before are theirs. */
  async confirmTentative(tx: Transaction, userId: string): Promise<void> {
    await tx.passkey.updateMany({ where: { userId, tentative: true }, data: { tentative: false } });
  }

  /**
   * Whoever holds the mailbox proved the address and takes the account over (a password reset):
   * passkeys added while it was unproven go, each with its `passkey_removed` event. Otherwise
   * someone who made the account with the victim's address would keep a way into it.
   */
  async dropTentative(tx: Transaction, userId: string, client: ClientInfo): Promise<void> {
    const dropped = await tx.passkey.findMany({ where: { userId, tentative: true }, select: { id: true, name: true } });
    if (dropped.length === 0) return;
    await tx.passkey.deleteMany({ where: { id: { in: dropped.map((passkey) => passkey.id) } } });
    for (const { id, name } of dropped) {
      const details = { passkeyId: id, name, by: "password_reset" };
      await this.dependencies.audit.record(tx, { kind: "passkey_removed", userId, actorId: null, client, details });
    }
  }
}
