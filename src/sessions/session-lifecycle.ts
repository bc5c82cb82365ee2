import type { SecurityEventKind, SecurityEvents } from "../audit/security-events.js";
import type { AccessTokens } from "../auth/access-tokens.js";
import { newRefreshToken, newSessionId } from "../auth/refresh-tokens.js";
import { effectiveRoles } from "../auth/roles.js";
import type { Clock } from "../clock.js";
import { transactionOptions, type Database, type Transaction } from "../db/prisma.js";
import type { Prisma } from "../generated/prisma/client.js";
import { truncateUserAgent, type ClientInfo } from "../http/client-info.js";
import type { EventCounter } from "../observability/events.js";
import type { RevocationStore } from "../store/revocation-store.js";
import type { UserRecord } from "../users/users.service.js";
import { holdEndingLock } from "./revocation-set.js";
import type { TokenLifetimes } from "./settings.js";
import {
  inPoolTransaction,
  runIn,
  signIn,
  type AccountCredentials,
  type NewSession,
  type StoredSession,
} from "./sign-in.js";

export interface AuthResult {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  user: UserRecord;
}

export interface SessionLifecycleDependencies {
  database: Database;
  revocationStore: RevocationStore;
  accessTokens: AccessTokens;
  clock: Clock;
  lifetimes: TokenLifetimes;
  audit: SecurityEvents;
  /** Live sessions one account may have (MAX_SESSIONS_PER_ACCOUNT); a sign-in past it ends the least recently used. */
  maxSessionsPerAccount: number;
  onEvent: EventCounter;
}

/** Why sessions past MAX_SESSIONS_PER_ACCOUNT ended (`revoked_reason`, and the event's details). */
export const sessionLimitReason = "session_limit";

/** What a sign-in's security events say beside their kind (how the account signed in, when not with its password); never a secret. */
export type LoginDetails = Prisma.InputJsonObject;

/**
 * How every session starts and ends, whichever operation starts or ends it (login, register,
 * password change, logout, reuse detection…).
 *
 * No ended session obtains a token again, whatever runs concurrently:
 * - a session starts only while the account's `credentials_version` is the one its password was
 *   checked against (`insert`); every credential change increments it (`changeCredentials`);
 * - whatever extends a session (refresh) holds its row lock and checks `revoked_at` under it, and
 *   ending it updates the same row, so the two queue;
 * - each session records when its newest access token expires (`access_token_expires_at`, written
 *   before that token is handed out): its revocation is remembered exactly that long.
 */
export class SessionLifecycle {
  constructor(private readonly dependencies: SessionLifecycleDependencies) {}

  /** The row of a new session and its first refresh token; nothing is written yet. */
  prepare(now: Date, client: ClientInfo): NewSession {
    const refresh = newRefreshToken();
    const expiresAt = this.refreshTokenExpiry(now);
    const accessTokenExpiresAt = this.dependencies.accessTokens.expiryOf(now);
    return {
      refreshToken: refresh.token,
      row: {
        id: newSessionId(),
        userAgent: truncateUserAgent(client.userAgent),
        createdAt: now,
        lastUsedAt: now,
        expiresAt,
        accessTokenExpiresAt,
        refreshTokens: { create: { tokenHash: refresh.tokenHash, createdAt: now, expiresAt } },
      },
    };
  }

  /**
   * A login's session (`login`, `completeLogin`), its first refresh token and its `login_succeeded`
   * event (with `details`, how it signed in), in a transaction that holds the account's row. When
   * the account would then have more than `maxSessionsPerAccount` live sessions, the least recently
   * used end as `revokeSession` ends one, recorded as one `session_ended` event. Null, and nothing
   * written, when the account's credentials changed (or it went) since `account` was read; `locked`,
   * and nothing written, when it is locked.
   */
  async insert(
    account: AccountCredentials,
    session: NewSession,
    client: ClientInfo,
    details?: LoginDetails,
  ): Promise<StoredSession | null> {
    const { database, audit, maxSessionsPerAccount } = this.dependencies;
    const event = { kind: "login_succeeded", client, details } as const;
    // Most sign-ins end no session: a transaction of two prepared statements is then enough.
    const quick = await inPoolTransaction(
      database.pool,
      (run) => signIn(run, audit, account, session, event, maxSessionsPerAccount - 1),
      (result) => result.beyondLimit.length === 0,
    );
    if (quick.beyondLimit.length === 0) return quick.stored;
    // Rolled back: again, in a transaction that can end the sessions past the limit too.
    const outcome = await database.$transaction(async (tx) => {
      const inserted = await this.insertWithin(tx, account, session, client, event.kind, details);
      await inserted.revoke();
      return inserted;
    }, transactionOptions);
    this.reportEnded(outcome.ended);
    return outcome.stored;
  }

  /** `insert` inside the caller's transaction (a registration's, which stores the account too; a provider's link); the caller calls `revoke` last. */
  async insertWithin(
    tx: Transaction,
    account: AccountCredentials,
    session: NewSession,
    client: ClientInfo,
    kind: SecurityEventKind,
    details?: LoginDetails,
  ): Promise<{ stored: StoredSession | null; ended: number; revoke: () => Promise<void> }> {
    const { audit, maxSessionsPerAccount } = this.dependencies;
    const { stored, beyondLimit } = await signIn(
      runIn(tx),
      audit,
      account,
      session,
      { kind, client, details },
      maxSessionsPerAccount - 1,
    );
    if (beyondLimit.length === 0) return { stored, ended: 0, revoke: async () => {} };
    const ending = await this.endWithin(tx, { id: { in: beyondLimit } }, sessionLimitReason);
    if (ending.ended > 0) {
      const details = { reason: sessionLimitReason, count: ending.ended };
      await audit.record(tx, { kind: "session_ended", userId: account.id, actorId: account.id, client, details });
    }
    return { stored, ...ending };
  }

  /** The pair a client receives for a session that is (or is being) stored. */
  async tokensFor(user: UserRecord, session: NewSession): Promise<AuthResult> {
    const access = await this.dependencies.accessTokens.issue(
      user.id,
      session.row.id,
      effectiveRoles(user.roles),
      session.row.createdAt,
    );
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken: session.refreshToken,
      refreshTokenExpiresAt: session.row.expiresAt,
      user,
    };
  }

  /**
   * Marks the matching live sessions ended and tells the revocation store, in one transaction: if
   * the store is unreachable nothing is written and the caller sees the failure.
   */
  async end(where: Prisma.SessionWhereInput, reason: string): Promise<number>;
  async end<T>(
    where: Prisma.SessionWhereInput,
    reason: string,
    alsoInTransaction: (tx: Transaction, ended: number) => Promise<T>,
  ): Promise<{ ended: number; result: T }>;
  async end<T>(
    where: Prisma.SessionWhereInput,
    reason: string,
    alsoInTransaction?: (tx: Transaction, ended: number) => Promise<T>,
  ): Promise<number | { ended: number; result: T }> {
    const outcome = await this.dependencies.database.$transaction(async (tx) => {
      const ending = await this.endWithin(tx, where, reason);
      const result = alsoInTransaction ? await alsoInTransaction(tx, ending.ended) : undefined;
      await ending.revoke();
      return { ended: ending.ended, result: result as T };
    }, transactionOptions);
    this.reportEnded(outcome.ended);
    return alsoInTransaction ? outcome : outcome.ended;
  }

  /**
   * A credential change (new password, reset…): the account's credentials version grows, every
   * session ends, and `alsoInTransaction` runs (it stores the new credentials, may start the one
   * session that survives), all in one transaction. With `expectedVersion`, only while the
   * credentials are still those the caller checked; null (nothing written) otherwise. Logins whose
   * password check overlapped the change cannot write their session afterwards (`insert`). With
   * `keepSessionId`, the session that makes the change goes on (turning MFA on or off).
   */
  async changeCredentials<T>(
    userId: string,
    expectedVersion: number | undefined,
    reason: string,
    alsoInTransaction: (tx: Transaction) => Promise<T>,
    keepSessionId?: string,
  ): Promise<T | null> {
    const outcome = await this.dependencies.database.$transaction(async (tx) => {
      // First, so that the row lock is held before the sessions are read.
      const { count } = await tx.user.updateMany({
        where: { id: userId, ...(expectedVersion === undefined ? {} : { credentialsVersion: expectedVersion }) },
        data: { credentialsVersion: { increment: 1 } },
      });
      if (count === 0) return null;
      const sessions = keepSessionId === undefined ? { userId } : { userId, id: { not: keepSessionId } };
      const ending = await this.endWithin(tx, sessions, reason);
      const result = await alsoInTransaction(tx);
      await ending.revoke();
      return { ended: ending.ended, result };
    }, transactionOptions);
    if (!outcome) return null;
    this.reportEnded(outcome.ended);
    return outcome.result;
  }

  /**
   * `end` inside the caller's transaction, for changes that hold the account's row first (a lock,
   * a role removal: no login then starts a session this would miss); the caller calls `revoke` last.
   *
   * The UPDATE takes each row's lock and, under READ COMMITTED, re-reads a row a concurrent refresh
   * just changed: the access-token expiry it returns is the newest one handed out. The revocation
   * store, which no rollback reaches, is told by `revoke`: the transaction's last step, so that a
   * step that fails after the ending leaves no revocation behind sessions that go on.
   */
  async endWithin(
    tx: Transaction,
    where: Prisma.SessionWhereInput,
    reason: string,
  ): Promise<{ ended: number; revoke: () => Promise<void> }> {
    const { revocationStore, clock } = this.dependencies;
    const now = clock.now();
    await holdEndingLock(tx);
    const ended = await tx.session.updateManyAndReturn({
      where: { ...where, revokedAt: null },
      data: { revokedAt: now, revokedReason: reason },
      select: { id: true, accessTokenExpiresAt: true },
    });
    // Sessions whose access tokens have all expired need no revocation entry.
    const withLiveTokens = ended.filter((session) => session.accessTokenExpiresAt > now);
    const revoke = async () => {
      if (withLiveTokens.length === 0) return;
      const newest = Math.max(...withLiveTokens.map((session) => session.accessTokenExpiresAt.getTime()));
      await revocationStore.revokeSessions(
        withLiveTokens.map((session) => session.id),
        Math.ceil((newest - now.getTime()) / 1000),
      );
    };
    return { ended: ended.length, revoke };
  }

  private reportEnded(count: number): void {
    if (count > 0) this.dependencies.onEvent("session_ended");
  }

  refreshTokenExpiry(now: Date): Date {
    return new Date(now.getTime() + this.dependencies.lifetimes.refreshTokenTtlSeconds * 1000);
  }
}
