import type { Transaction } from "../db/prisma.js";
import { Prisma } from "../generated/prisma/client.js";

/** A way an account signs in that is about to go. */
export type SignInMethod = { kind: "password" } | { kind: "passkey"; id: string };

/**
 * Every way an account can sign in, each an SQL count over the account's row (`users`) that leaves
 * `removed` out. A new way (an identity provider…) adds its own term here.
 */
const signInMethods: ((removed: SignInMethod) => Prisma.Sql)[] = [
  // Every account has a password today; the term is what keeps that honest if one may lack it.
  (removed) => (removed.kind === "password" ? Prisma.sql`0` : Prisma.sql`(users.password_hash IS NOT NULL)::int`),
  (removed) => {
    const passkeyId = removed.kind === "passkey" ? removed.id : null;
    return Prisma.sql`(SELECT count(*)::int FROM passkeys WHERE passkeys.user_id = users.id AND passkeys.id IS DISTINCT FROM ${passkeyId}::uuid)`;
  },
];

/**
 * Whether the account can still sign in once `removed` is gone. Its row is locked for the rest of
 * `tx`, so two removals at once cannot each count on the way the other removes.
 */
export async function hasSignInMethodOtherThan(
  tx: Transaction,
  userId: string,
  removed: SignInMethod,
): Promise<boolean> {
  const others = Prisma.join(
    signInMethods.map((term) => term(removed)),
    " + ",
  );
  const rows = await tx.$queryRaw<
    { others: number }[]
  >`SELECT ${others} AS others FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
  return (rows[0]?.others ?? 0) > 0;
}
