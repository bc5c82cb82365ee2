import type pg from "pg";
import type { SecurityEventInput, SecurityEvents } from "../audit/security-events.js";
import type { Transaction } from "../db/prisma.js";

/** A session about to start: its row (with its first refresh token) and the refresh token itself. */
export interface NewSession {
  refreshToken: string;
  row: {
    id: string;
    userAgent: string | null;
    createdAt: Date;
    lastUsedAt: Date;
    expiresAt: Date;
    accessTokenExpiresAt: Date;
    refreshTokens: { create: { tokenHash: string; createdAt: Date; expiresAt: Date } };
  };
}

/** An account as read before its password was checked: the credentials that check was against. */
export interface AccountCredentials {
  id: string;
  credentialsVersion: number;
}

/** What a sign-in found: the account's roles and lock as they are when the session is stored. */
export interface StoredSession {
  roles: string[];
  locked: boolean;
}

/**
 * The account a sign-in is for, locked, and only while its credentials are still the ones the
 * password was checked against. A concurrent credential change, lock or role change (each updates
 * the row first) and the sign-in wait for each other: either the change commits first and this
 * sees it (no row, or the lock and roles it committed), or the session is committed first and the
 * change, which ends every session it sees afterwards, ends it too. Sign-ins of one account queue
 * here as well, so that each counts the sessions of those before it.
 */
const lockAccount =
  "SELECT roles, locked_at IS NOT NULL AS locked FROM users WHERE id = $1 AND credentials_version = $2 FOR NO KEY UPDATE";

/**
 * The session, its first refresh token and the sign-in's security event (with its details: how it
 * signed in), in one statement under the account's lock. Returns the account's other live sessions
 * past the `$12` most recently used: those the new one puts beyond the limit (the statement does not
 * see its own insert).
 */
const insertSession = `WITH session AS (
    INSERT INTO sessions (id, user_id, user_agent, created_at, last_used_at, expires_at, access_token_expires_at)
    VALUES ($1, $2, $3, $4, $4, $5, $7) RETURNING id
  ), refresh_token AS (
    INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) SELECT $6, id, $4, $5 FROM session
  ), event AS (
    INSERT INTO security_events (at, kind, user_id, actor_id, ip, user_agent, details) SELECT $4, $8, $2, $2, $9, $10, $11::jsonb FROM session
  )
  SELECT id FROM sessions WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $4
  ORDER BY last_used_at DESC, created_at DESC, id OFFSET $12`;

/** Runs one statement of a transaction; `name` prepares it once per connection where that is possible. */
export type Run = <T>(name: string, text: string, values: unknown[]) => Promise<T[]>;

/** `Run` in a Prisma transaction. */
export function runIn(tx: Transaction): Run {
  return <T>(_name: string, text: string, values: unknown[]) => tx.$queryRawUnsafe<T[]>(text, ...values);
}

/** What a sign-in wrote: nothing (`stored` null or locked), or its session and the sessions now past the limit. */
export interface SignIn {
  stored: StoredSession | null;
  beyondLimit: string[];
}

/** The statements of a sign-in, in a transaction `run` belongs to; `keep`: how many other live sessions may stay. */
export async function signIn(
  run: Run,
  audit: SecurityEvents,
  account: AccountCredentials,
  session: NewSession,
  event: Pick<SecurityEventInput, "kind" | "client" | "details">,
  keep: number,
): Promise<SignIn> {
  const [stored] = await run<StoredSession>("lock-account", lockAccount, [account.id, account.credentialsVersion]);
  if (!stored || stored.locked) return { stored: stored ?? null, beyondLimit: [] };
  const { row } = session;
  const { kind, ip, userAgent, details } = audit.row({ ...event, userId: account.id, actorId: account.id });
  const values = [
    row.id,
    account.id,
    row.userAgent,
    row.createdAt,
    row.expiresAt,
    row.refreshTokens.create.tokenHash,
    row.accessTokenExpiresAt,
  ];
  const eventValues = [kind, ip, userAgent, details === undefined ? null : JSON.stringify(details)];
  const beyond = await run<{ id: string }>("insert-session", insertSession, [...values, ...eventValues, keep]);
  return { stored, beyondLimit: beyond.map(({ id }) => id) };
}

/**
 * `work` in a transaction on one pooled connection, without Prisma's per-transaction cost: committed
 * when `commit(result)`, else rolled back. A connection whose statement failed is not reused.
 */
export async function inPoolTransaction<T>(
  pool: pg.Pool,
  work: (run: Run) => Promise<T>,
  commit: (result: T) => boolean,
): Promise<T> {
  const connection = await pool.connect();
  try {
    await connection.query("BEGIN");
    const result = await work(async (name, text, values) => (await connection.query({ name, text, values })).rows);
    await connection.query(commit(result) ? "COMMIT" : "ROLLBACK");
    connection.release();
    return result;
  } catch (error) {
    connection.release(error instanceof Error ? error : true);
    throw error;
  }
}
