/**
 * Everything that happens to an account or a session that the subgraph records or counts, named
 * once.
 *
 * `audited`: the security audit log records it, once per action, for the account it concerns (an
 * action that ends sessions as a consequence records its own event only). Its name is the stored
 * `kind`, which clients read: add events freely, never rename one.
 *
 * `counted`: `auth_events_total` counts every occurrence under this `event` label. Two labels are
 * older than the audit log and keep their names: `register` and `sessions_ended`.
 *
 * `published`: the user event other services receive for it (webhooks, the Redis stream), written
 * in the transaction of the action. Receivers match on these strings: add them freely, never rename
 * one. `user.sessions_revoked` says every session of the account ended.
 */
export const accountEvents = {
  registered: { audited: true, counted: "register", published: "user.registered" },
  login_succeeded: { audited: true, counted: "login_succeeded", published: null },
  /** A wrong password (counted for any name; audited for an existing account), or the right one refused: locked, unverified. */
  login_failed: { audited: true, counted: "login_failed", published: null },
  /** Counted at every refusal; audited once, for the attempt that first exceeded an account's limit in its window. */
  login_rate_limited: { audited: true, counted: "login_rate_limited", published: null },
  login_mfa_required: { audited: false, counted: "login_mfa_required", published: null },
  /** A wrong code at the second step of a login (audited as `login_failed`, reason `mfa_code`). */
  mfa_code_rejected: { audited: false, counted: "mfa_code_rejected", published: null },
  mfa_enabled: { audited: true, counted: "mfa_enabled", published: "user.sessions_revoked" },
  mfa_disabled: { audited: true, counted: "mfa_disabled", published: "user.sessions_revoked" },
  /** details: the passkey's id and name. */
  passkey_added: { audited: true, counted: null, published: null },
  passkey_removed: { audited: true, counted: null, published: null },
  /** A passkey answered with a signature counter not above the last one seen: a cloned authenticator, likely. */
  passkey_counter_regressed: { audited: true, counted: null, published: null },
  /** An identity provider's sign-in now signs in to the account, or no longer does (details: provider, and `by` when not the owner's own act). */
  identity_linked: { audited: true, counted: null, published: null },
  identity_unlinked: { audited: true, counted: null, published: null },
  refresh_succeeded: { audited: false, counted: "refresh_succeeded", published: null },
  refresh_rejected: { audited: false, counted: "refresh_rejected", published: null },
  refresh_token_reused: { audited: true, counted: "refresh_token_reused", published: null },
  /**
   * Counted whenever sessions end, whatever ended them; audited only when ending them is the action
   * (logout, logoutAll, revokeSession, revokeUserSessions), or when a sign-in past
   * MAX_SESSIONS_PER_ACCOUNT ends them (details: reason, count). Published only when every session
   * of the account ended (logoutAll, revokeUserSessions).
   */
  session_ended: { audited: true, counted: "sessions_ended", published: "user.sessions_revoked" },
  /** The revocation store was rebuilt from PostgreSQL (it lost its data, or the process started). */
  revocation_set_rebuilt: { audited: false, counted: "revocation_set_rebuilt", published: null },
  password_changed: { audited: true, counted: null, published: "user.sessions_revoked" },
  password_reset: { audited: true, counted: null, published: "user.sessions_revoked" },
  email_changed: { audited: true, counted: null, published: "user.email_changed" },
  email_verified: { audited: true, counted: null, published: "user.email_verified" },
  roles_changed: { audited: true, counted: null, published: "user.roles_changed" },
  locked: { audited: true, counted: null, published: "user.locked" },
  unlocked: { audited: true, counted: null, published: "user.unlocked" },
  deleted: { audited: true, counted: null, published: "user.deleted" },
  /** Not audited: a rename is no security matter, but other services show the name. */
  username_changed: { audited: false, counted: null, published: "user.username_changed" },
} as const satisfies Record<string, { audited: boolean; counted: string | null; published: string | null }>;

export type AccountEvent = keyof typeof accountEvents;

/** The events the security audit log records. */
export type AuditedEvent = {
  [E in AccountEvent]: (typeof accountEvents)[E]["audited"] extends true ? E : never;
}[AccountEvent];

/** The events `auth_events_total` counts. */
export type CountedEvent = {
  [E in AccountEvent]: (typeof accountEvents)[E]["counted"] extends string ? E : never;
}[AccountEvent];

/** The events other services receive, and their `type`. */
export type PublishedEvent = {
  [E in AccountEvent]: (typeof accountEvents)[E]["published"] extends string ? E : never;
}[AccountEvent];

export type UserEventType = (typeof accountEvents)[PublishedEvent]["published"];

/** Every user event type, once each. */
export const userEventTypes: UserEventType[] = [
  ...new Set(Object.values(accountEvents).flatMap(({ published }) => (published === null ? [] : [published]))),
];

/** Counts an event where it happens; the server's metrics are behind it. */
export type EventCounter = (event: CountedEvent) => void;

/** The `event` label of `auth_events_total` for each counted event. */
export function metricLabel(event: CountedEvent): string {
  return accountEvents[event].counted;
}

/** Every label `auth_events_total` may carry. */
export const metricLabels: string[] = Object.values(accountEvents).flatMap(({ counted }) =>
  counted === null ? [] : [counted],
);

/**
 * What one attempt to deliver an outbox message (a user event, a mail) came to: the `outcome` label
 * of `outbox_delivery_attempts_total`. `retried`: it failed and is tried again later; `failed`: it
 * was given up.
 */
export const deliveryOutcomes = ["delivered", "retried", "failed"] as const;

export type DeliveryOutcome = (typeof deliveryOutcomes)[number];
