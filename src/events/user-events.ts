import type { SecurityEventInput } from "../audit/security-events.js";
import type { Prisma } from "../generated/prisma/client.js";

/** What other services hear of. Receivers match on these strings: add types freely, never rename one. */
export const userEventTypes = [
  "user.registered",
  "user.email_verified",
  "user.email_changed",
  "user.username_changed",
  "user.roles_changed",
  "user.locked",
  "user.unlocked",
  "user.deleted",
  /** Every session of the account ended (a password change or reset, logoutAll, MFA turned on or off, an admin). */
  "user.sessions_revoked",
] as const;

export type UserEventType = (typeof userEventTypes)[number];

/** An event as an action emits it: the account, and the fields the action changed. */
export interface UserEvent {
  type: UserEventType;
  userId: string;
  /** Never a password, token, secret or hash. */
  data: Prisma.InputJsonObject;
}

/** The reasons of `session_ended` that end every session of the account. */
const everySessionEnded = new Set(["logout_all", "revoked_by_admin"]);

/**
 * The user event a security event stands for, if any: one place maps the audit log's kinds, so an
 * action that records `roles_changed` emits `user.roles_changed` in the same transaction.
 * `registered` is not here: a registration's security event is written by the sign-in statement,
 * and `register` emits its event itself.
 */
export function userEventOf(event: SecurityEventInput, at: Date): UserEvent | null {
  const userId = event.userId;
  if (userId === null) return null;
  const changes = event.changes ?? {};
  switch (event.kind) {
    case "email_verified":
      return { type: "user.email_verified", userId, data: changes };
    case "email_changed":
      return { type: "user.email_changed", userId, data: changes };
    case "roles_changed":
      return { type: "user.roles_changed", userId, data: { ...changes, added: event.details?.added ?? [], removed: event.details?.removed ?? [] } };
    case "locked":
      return { type: "user.locked", userId, data: { lockedAt: at.toISOString() } };
    case "unlocked":
      return { type: "user.unlocked", userId, data: { lockedAt: null } };
    case "deleted":
      return { type: "user.deleted", userId, data: {} };
    case "password_changed":
    case "password_reset":
    case "mfa_enabled":
    case "mfa_disabled":
      return { type: "user.sessions_revoked", userId, data: { reason: event.kind } };
    case "session_ended": {
      const reason = event.details?.reason;
      return typeof reason === "string" && everySessionEnded.has(reason) ? { type: "user.sessions_revoked", userId, data: { reason } } : null;
    }
    default:
      return null;
  }
}
