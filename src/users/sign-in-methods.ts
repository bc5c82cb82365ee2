import type { Database, Transaction } from "../db/prisma.js";
import { Prisma } from "../generated/prisma/client.js";

/** A way an account signs in that is about to go. */
export type SignInMethod = { kind: "password" } | { kind: "passkey"; id: string } | { kind: "identity"; id: string };

/** The id of `removed` when it is of `kind`, else null: an SQL parameter no row's id is distinct from. */
const removedId = (removed: SignInMethod, kind: "passkey" | "identity"): string | null =>
  removed.kind === kind ? removed.id : null;

/**
 * Every way an account can sign in, each an SQL count over the account's row (`users`) that leaves
 * `removed` out. A new way adds its own term here.
 */
const signInMethods: ((removed: SignInMethod) => Prisma.Sql)[] = [
  // Accounts made by an identity provider have none until a reset link sets one.
  (removed) => (removed.kind === "password" ? Prisma.sql`0` : Prisma.sql`(users.password_hash IS NOT NULL)::int`),
  (removed) =>
    Prisma.sql`(SELECT count(*)::int FROM passkeys WHERE user_id = users.id AND id IS DISTINCT FROM ${removedId(removed, "passkey")}::uuid)`,
  (removed) =>
    Prisma.sql`(SELECT count(*)::int FROM identities WHERE user_id = users.id AND id IS DISTINCT FROM ${removedId(removed, "identity")}::uuid)`,
];

/**
 * Whether the account can still sign in once `removed` is gone. Its row is locked for the rest of
 * `tx`, so two removals at once cannot each count on the way the other removes: the count is a
 * statement of its own, after the lock, because a statement that waits for a lock still reads what
 * was committed when it began (READ COMMITTED), not what the removal it waited for committed.
 */
export async function hasSignInMethodOtherThan(
  tx: Transaction,
  userId: string,
  removed: SignInMethod,
): Promise<boolean> {
  await tx.$queryRaw`SELECT 1 FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
  const others = Prisma.join(
    signInMethods.map((term) => term(removed)),
    " + ",
  );
  const rows = await tx.$queryRaw<
    { others: number }[]
  >`SELECT ${others} AS others FROM users WHERE id = ${userId}::uuid`;
  return (rows[0]?.others ?? 0) > 0;
}

/**
 * Whether the account holds a way to sign in added before anyone proved its address (a tentative
 * identity, passkey or password): whoever added it may not be the address's owner.
 */
export async function hasTentativeSignInMethod(
  database: Pick<Database, "$queryRaw">,
  userId: string,
): Promise<boolean> {
  const rows = await database.$queryRaw<{ tentative: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM identities WHERE user_id = ${userId}::uuid AND tentative)
      OR EXISTS (SELECT 1 FROM passkeys WHERE user_id = ${userId}::uuid AND tentative)
      OR EXISTS (SELECT 1 FROM users WHERE id = ${userId}::uuid AND password_tentative) AS tentative`;
  return rows[0]?.tentative ?? false;
}

/** The owner proved the address while signed in: the password they signed in with is theirs. */
export async function confirmTentativePassword(tx: Transaction, userId: string): Promise<void> {
  await tx.user.update({ where: { id: userId }, data: { passwordTentative: false } });
}
