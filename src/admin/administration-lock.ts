import { adminRole } from "../auth/roles.js";
import { transactionOptions, type Database, type Transaction } from "../db/prisma.js";
import { LastAdminError } from "../errors/errors.js";

/**
 * Changes to who is an admin and who is locked, one at a time: each runs in a transaction that
 * first takes the same advisory lock, so two admins demoting each other cannot both see "another
 * admin is left", and concurrent identical changes see each other's result (one event, not two).
 */
export function withAdministrationLock<T>(database: Database, work: (tx: Transaction) => Promise<T>): Promise<T> {
  return database.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('users:account-administration'))`;
    return work(tx);
  }, transactionOptions);
}

/** LAST_ADMIN unless an admin other than `userId` can still act (has the role and is not locked). */
export async function assertAnotherAdmin(tx: Transaction, userId: string): Promise<void> {
  const other = await tx.user.findFirst({
    where: { roles: { has: adminRole }, lockedAt: null, id: { not: userId } },
    select: { id: true },
  });
  if (!other) throw new LastAdminError();
}
