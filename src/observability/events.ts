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
 */
export const accountEvents = {
  registered: { audited: true, counted: "register" },
  login_succeeded: { audited: true, counted: "login_succeeded" },
  /** A wrong password (counted for any name; audited for an existing account), or the right one refused: locked, unverified. */
  login_failed: { audited: true, counted: "login_failed" },
  /** Counted at every refusal; audited once, for the attempt that first exceeded an account's limit in its window. */
  login_rate_limited: { audited: true, counted: "login_rate_limited" },
  login_mfa_required: { audited: false, counted: "login_mfa_required" },
  /** A wrong code at the second step of a login (audited as `login_failed`, reason `mfa_code`). */
  mfa_code_rejected: { audited: false, counted: "mfa_code_rejected" },
  mfa_enabled: { audited: true, counted: "mfa_enabled" },
  mfa_disabled: { audited: true, counted: "mfa_disabled" },
  /** details: the passkey's id and name. */
  passkey_added: { audited: true, counted: null },
  passkey_removed: { audited: true, counted: null },
  /** A passkey answered with a signature counter not above the last one seen: a cloned authenticator, likely. */
  passkey_counter_regressed: { audited: true, counted: null },
  /** An identity provider's sign-in now signs in to the account, or no longer does (details: provider, and `by` when not the owner's own act). */
  identity_linked: { audited: true, counted: null },
  identity_unlinked: { audited: true, counted: null },
  refresh_succeeded: { audited: false, counted: "refresh_succeeded" },
  refresh_rejected: { audited: false, counted: "refresh_rejected" },
  refresh_token_reused: { audited: true, counted: "refresh_token_reused" },
  /**
   * Counted whenever sessions end, whatever ended them; audited only when ending them is the action
   * (logout, logoutAll, revokeSession, revokeUserSessions), or when a sign-in past
   * MAX_SESSIONS_PER_ACCOUNT ends them (details: reason, count).
   */
  session_ended: { audited: true, counted: "sessions_ended" },
  /** The revocation store was rebuilt from PostgreSQL (it lost its data, or the process started). */
  revocation_set_rebuilt: { audited: false, counted: "revocation_set_rebuilt" },
  password_changed: { audited: true, counted: null },
  password_reset: { audited: true, counted: null },
  email_changed: { audited: true, counted: null },
  email_verified: { audited: true, counted: null },
  roles_changed: { audited: true, counted: null },
  locked: { audited: true, counted: null },
  unlocked: { audited: true, counted: null },
  deleted: { audited: true, counted: null },
} as const satisfies Record<string, { audited: boolean; counted: string | null }>;

export type AccountEvent = keyof typeof accountEvents;

/** The events the security audit log records. */
export type AuditedEvent = {
  [E in AccountEvent]: (typeof accountEvents)[E]["audited"] extends true ? E : never;
}[AccountEvent];

/** The events `auth_events_total` counts. */
export type CountedEvent = {
  [E in AccountEvent]: (typeof accountEvents)[E]["counted"] extends string ? E : never;
}[AccountEvent];

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
