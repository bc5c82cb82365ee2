import type { SecurityEvents } from "../audit/security-events.js";
import { adminRole, effectiveRoles } from "../auth/roles.js";
import type { Database } from "../db/prisma.js";
import { normalizeEmail } from "../users/identity.js";
import { withAdministrationLock } from "./administration-lock.js";

export type GrantOutcome = "granted" | "already admin" | "no such account";

/**
 * Makes the account with this e-mail address an admin, without SQL and without an admin yet: the
 * command line (`grant-admin`) and the ADMIN_EMAILS setting. Idempotent; the event names the
 * `source`, no actor (no account signed in).
 */
export function grantAdmin(
  database: Database,
  audit: SecurityEvents,
  email: string,
  source: string,
): Promise<GrantOutcome> {
  const address = normalizeEmail(email);
  return withAdministrationLock(database, async (tx) => {
    const user = await tx.user.findUnique({ where: { email: address }, select: { id: true, roles: true } });
    if (!user) return "no such account";
    if (user.roles.includes(adminRole)) return "already admin";
    const roles = [...user.roles, adminRole].sort();
    await tx.user.update({ where: { id: user.id }, data: { roles } });
    await audit.record(tx, {
      kind: "roles_changed",
      userId: user.id,
      actorId: null,
      details: { added: [adminRole], removed: [], source },
      changes: { roles: effectiveRoles(roles) },
    });
    return "granted";
  });
}
