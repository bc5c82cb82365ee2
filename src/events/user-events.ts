import type { SecurityEventInput } from "../audit/security-events.js";
import type { Prisma } from "../generated/prisma/client.js";
import { accountEvents, type UserEventType } from "../observability/events.js";

/** An event as an action emits it: the account, and the fields the action changed. */
export interface UserEvent {
  type: UserEventType;
  userId: string;
  /** Never a password, token, secret or hash. */
  data: Prisma.InputJsonObject;
}

/** The reasons of `session_ended` that end every session of the account. */
const everySessionEnded = new Set(["logout_all", "revoked_by_admin"]);

/** What other services learn of each kind: the account's fields as the action left them, or why sessions ended. */
function dataOf(event: SecurityEventInput, at: Date): Prisma.InputJsonObject {
  const changes = event.changes ?? {};
  switch (event.kind) {
    case "roles_changed":
      return { ...changes, added: event.details?.added ?? [], removed: event.details?.removed ?? [] };
    case "locked":
      return { lockedAt: at.toISOString() };
    case "unlocked":
      return { lockedAt: null };
    case "password_changed":
    case "password_reset":
    case "mfa_enabled":
    case "mfa_disabled":
      return { reason: event.kind };
    case "session_ended":
      return { reason: event.details?.reason ?? null };
    default:
      return changes;
  }
}

/**
 * The user event a security event stands for, if any (`published` in the vocabulary), so that an
 * action that records `roles_changed` emits `user.roles_changed` in the same transaction.
 * (`register` and an account's first sign-in with a provider emit their own: a registration's
 * security event is written by the sign-in statement.)
 */
export function userEventOf(event: SecurityEventInput, at: Date): UserEvent | null {
  const type = accountEvents[event.kind].published;
  if (type === null || event.userId === null) return null;
  if (event.kind === "session_ended" && !everySessionEnded.has(String(event.details?.reason))) return null;
  return { type, userId: event.userId, data: dataOf(event, at) };
}
