import type { AccessTokens } from "../auth/access-tokens.js";
import { newRefreshToken, newSessionId } from "../auth/refresh-tokens.js";
import type { RevocationStore } from "../auth/revocation/revocation-store.js";
import type { Clock } from "../clock.js";
import type { Database, Transaction } from "../db/prisma.js";
import type { Prisma, Session } from "../generated/prisma/client.js";
import type { UserRecord } from "../users/users.service.js";

export interface Viewer {
  userId: string;
  sessionId: string;
}

export interface AuthResult {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  user: UserRecord;
}

export interface ClientInfo {
  userAgent?: string;
  ip?: string;
}

export type AuthEvent =
  | "register"
  | "login_succeeded"
  | "login_failed"
  | "login_rate_limited"
  | "refresh_succeeded"
  | "refresh_rejected"
  | "refresh_token_reused"
  | "sessions_ended";

export interface TokenLifetimes {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

/** A session about to start: its row (with its first refresh token) and the refresh token itself. */
export interface NewSession {
  refreshToken: string;
  row: {
    id: string;
    userAgent: string | null;
    createdAt: Date;
    lastUsedAt: Date;
    expiresAt: Date;
    refreshTokens: { create: { tokenHash: string; createdAt: Date; expiresAt: Date } };
  };
}

export interface SessionLifecycleDependencies {
  database: Database;
  revocationStore: RevocationStore;
  accessTokens: AccessTokens;
  clock: Clock;
  lifetimes: TokenLifetimes;
  onEvent: (event: AuthEvent) => void;
}

const userAgentMaxLength = 512;

// Foreign keys are checked at the end of the statement, when the session row exists.
const insertSessionWithRefreshToken = `WITH session AS (
    INSERT INTO sessions (id, user_id, user_agent, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)
  )
  INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($6, $1, $4, $5)`;

/**
 * How every session starts and ends, whichever operation starts or ends it (login, register,
 * password change, logout, reuse detection…).
 */
export class SessionLifecycle {
  constructor(private readonly dependencies: SessionLifecycleDependencies) {}

  /** The row of a new session and its first refresh token; nothing is written yet. */
  prepare(now: Date, client: ClientInfo): NewSession {
    const refresh = newRefreshToken();
    const expiresAt = this.refreshTokenExpiry(now);
    return {
      refreshToken: refresh.token,
      row: {
        id: newSessionId(),
        userAgent: truncateUserAgent(client.userAgent),
        createdAt: now,
        lastUsedAt: now,
        expiresAt,
        refreshTokens: { create: { tokenHash: refresh.tokenHash, createdAt: now, expiresAt } },
      },
    };
  }

  /**
   * The session and its first refresh token in one named statement: a single round trip, atomic
   * without a transaction, planned once per connection. Logins are the hot write; Prisma's nested
   * create took four round trips.
   */
  async insert(userId: string, session: NewSession): Promise<void> {
    const { row } = session;
    await this.dependencies.database.pool.query({
      name: "insert-session",
      text: insertSessionWithRefreshToken,
      values: [row.id, userId, row.userAgent, row.createdAt, row.expiresAt, row.refreshTokens.create.tokenHash],
    });
  }

  /** The pair a client receives for a session that is (or is being) stored. */
  async tokensFor(user: UserRecord, session: NewSession): Promise<AuthResult> {
    const access = await this.dependencies.accessTokens.issue(user.id, session.row.id);
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
    alsoInTransaction: (tx: Transaction) => Promise<T>,
  ): Promise<{ ended: number; result: T }>;
  async end<T>(
    where: Prisma.SessionWhereInput,
    reason: string,
    alsoInTransaction?: (tx: Transaction) => Promise<T>,
  ): Promise<number | { ended: number; result: T }> {
    const { database, revocationStore, clock, onEvent } = this.dependencies;
    const now = clock.now();
    const outcome = await database.$transaction(async (tx) => {
      const live = await tx.session.findMany({
        where: { ...where, revokedAt: null },
        select: { id: true, lastUsedAt: true },
      });
      if (live.length > 0) {
        await tx.session.updateMany({
          where: { id: { in: live.map((session) => session.id) }, revokedAt: null },
          data: { revokedAt: now, revokedReason: reason },
        });
      }
      const result = alsoInTransaction ? await alsoInTransaction(tx) : undefined;
      await revocationStore.revokeSessions(
        live.map((session) => session.id),
        this.longestAccessTokenLifetime(live, now),
      );
      return { ended: live.length, result: result as T };
    });
    if (outcome.ended > 0) onEvent("sessions_ended");
    return alsoInTransaction ? outcome : outcome.ended;
  }

  refreshTokenExpiry(now: Date): Date {
    return new Date(now.getTime() + this.dependencies.lifetimes.refreshTokenTtlSeconds * 1000);
  }

  /** Access tokens are issued when a session starts or refreshes, which sets `lastUsedAt`. */
  private longestAccessTokenLifetime(sessions: Pick<Session, "lastUsedAt">[], now: Date): number {
    const newest = Math.max(...sessions.map((session) => session.lastUsedAt.getTime()));
    const expiresAt = newest + this.dependencies.lifetimes.accessTokenTtlSeconds * 1000;
    return Math.max(1, Math.ceil((expiresAt - now.getTime()) / 1000));
  }
}

export function truncateUserAgent(userAgent: string | undefined): string | null {
  return userAgent?.slice(0, userAgentMaxLength) ?? null;
}
