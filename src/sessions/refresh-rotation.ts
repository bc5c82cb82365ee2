import { createHash } from "node:crypto";
import type { AccessTokens } from "../auth/access-tokens.js";
import { hashRefreshToken, newSuccessorSalt, successorToken } from "../auth/refresh-tokens.js";
import type { Clock } from "../clock.js";
import { transactionOptions, type Database, type Transaction } from "../db/prisma.js";
import { truncateUserAgent, type ClientInfo } from "../http/client-info.js";
import type { UserRecord } from "../users/users.service.js";

export type Rotation =
  | {
      outcome: "issued";
      sessionId: string;
      user: UserRecord;
      refreshToken: string;
      refreshTokenExpiresAt: Date;
      at: Date;
    }
  | { outcome: "invalid" }
  /** A rotated token presented again, outside the reuse interval or by another client. */
  | { outcome: "reused"; sessionId: string; userId: string };

export interface RefreshRotationDependencies {
  database: Database;
  accessTokens: AccessTokens;
  clock: Clock;
  refreshTokenTtlSeconds: number;
  /** How long after its rotation the same client may present a refresh token again; 0: never. */
  reuseIntervalSeconds: number;
}

interface PresentedToken {
  sessionId: string;
  expiresAt: Date;
  rotatedAt: Date | null;
  successorSalt: string | null;
  rotatedBy: string | null;
  sessionRevokedAt: Date | null;
  sessionExpiresAt: Date;
  userId: string;
  username: string;
  email: string;
  emailVerifiedAt: Date | null;
  createdAt: Date;
  roles: string[];
  lockedAt: Date | null;
}

/**
 * The presented token and its session, both locked. Everything that changes a session's tokens
 * (rotation, the reuse-interval answer) and everything that ends it (an UPDATE of the row) takes
 * the session row's lock, so they queue; locking the token row too makes PostgreSQL re-read it
 * after the wait, so its `rotated_at` is the one a concurrent rotation just wrote.
 */
function lockPresented(tx: Transaction, tokenHash: string): Promise<PresentedToken[]> {
  return tx.$queryRaw<PresentedToken[]>`
    SELECT rt.session_id AS "sessionId", rt.expires_at AS "expiresAt", rt.rotated_at AS "rotatedAt",
      rt.successor_salt AS "successorSalt", rt.rotated_by AS "rotatedBy",
      s.revoked_at AS "sessionRevokedAt", s.expires_at AS "sessionExpiresAt",
      u.id::text AS "userId", u.username, u.email, u.email_verified_at AS "emailVerifiedAt", u.created_at AS "createdAt",
      u.roles, u.locked_at AS "lockedAt"
    FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id JOIN users u ON u.id = s.user_id
    WHERE rt.token_hash = ${tokenHash}
    FOR NO KEY UPDATE OF s, rt`;
}

/**
 * Who presented a token: the client address and user agent, hashed (they are only compared).
 * Tabs of one browser share both; a thief replaying a copy rarely has both.
 */
function clientFingerprint(client: ClientInfo): string {
  return createHash("sha256")
    .update(`${client.ip ?? ""}\n${client.userAgent ?? ""}`)
    .digest("hex");
}

/** Refresh-token rotation, with the reuse interval that keeps racing tabs signed in. */
export class RefreshRotation {
  constructor(private readonly dependencies: RefreshRotationDependencies) {}

  async rotate(refreshToken: string, client: ClientInfo): Promise<Rotation> {
    const { database, clock } = this.dependencies;
    const now = clock.now();
    return database.$transaction(async (tx) => {
      const [presented] = await lockPresented(tx, hashRefreshToken(refreshToken));
      if (!presented) return { outcome: "invalid" };
      // A lock ends the sessions too; checked here as well, so that no locked account ever refreshes.
      const sessionLive =
        presented.sessionRevokedAt === null && presented.sessionExpiresAt > now && presented.lockedAt === null;
      if (presented.rotatedAt !== null) {
        const retried =
          sessionLive && this.isRetry(presented, client, now)
            ? await this.retry(tx, refreshToken, presented, client, now)
            : null;
        return retried ?? { outcome: "reused", sessionId: presented.sessionId, userId: presented.userId };
      }
      if (!sessionLive || presented.expiresAt <= now) return { outcome: "invalid" };
      return this.rotateUnused(tx, refreshToken, presented, client, now);
    }, transactionOptions);
  }

  /**
   * The client that rotated the token, again, within the reuse interval: two tabs (or a retry after
   * a lost response) that refreshed at once. Anything else is a second holder of the token.
   */
  private isRetry(presented: PresentedToken, client: ClientInfo, now: Date): boolean {
    const { reuseIntervalSeconds } = this.dependencies;
    return (
      presented.successorSalt !== null &&
      presented.rotatedBy === clientFingerprint(client) &&
      now.getTime() - presented.rotatedAt!.getTime() <= reuseIntervalSeconds * 1000
    );
  }

  private async rotateUnused(
    tx: Transaction,
    refreshToken: string,
    presented: PresentedToken,
    client: ClientInfo,
    now: Date,
  ): Promise<Rotation> {
    const { accessTokens, refreshTokenTtlSeconds } = this.dependencies;
    const salt = newSuccessorSalt();
    const next = successorToken(refreshToken, salt);
    const expiresAt = new Date(now.getTime() + refreshTokenTtlSeconds * 1000);
    await tx.$executeRaw`
      WITH rotated AS (
        UPDATE refresh_tokens SET rotated_at = ${now}, successor_salt = ${salt}, rotated_by = ${clientFingerprint(client)}
        WHERE token_hash = ${hashRefreshToken(refreshToken)}
      ), successor AS (
        INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
        VALUES (${next.tokenHash}, ${presented.sessionId}, ${now}, ${expiresAt})
      )
      UPDATE sessions SET last_used_at = ${now}, expires_at = ${expiresAt},
        access_token_expires_at = GREATEST(access_token_expires_at, ${accessTokens.expiryOf(now)}),
        user_agent = COALESCE(${truncateUserAgent(client.userAgent)}, user_agent)
      WHERE id = ${presented.sessionId}`;
    return issued(presented, next.token, expiresAt, now);
  }

  /** The successor handed out at rotation, if it is still the session's current token, and a new access token. */
  private async retry(
    tx: Transaction,
    refreshToken: string,
    presented: PresentedToken,
    client: ClientInfo,
    now: Date,
  ): Promise<Rotation | null> {
    const next = successorToken(refreshToken, presented.successorSalt!);
    const [successor] = await tx.$queryRaw<{ expiresAt: Date }[]>`
      SELECT expires_at AS "expiresAt" FROM refresh_tokens
      WHERE token_hash = ${next.tokenHash} AND session_id = ${presented.sessionId} AND rotated_at IS NULL AND expires_at > ${now}`;
    if (!successor) return null;
    await tx.$executeRaw`
      UPDATE sessions SET last_used_at = ${now},
        access_token_expires_at = GREATEST(access_token_expires_at, ${this.dependencies.accessTokens.expiryOf(now)}),
        user_agent = COALESCE(${truncateUserAgent(client.userAgent)}, user_agent)
      WHERE id = ${presented.sessionId}`;
    return issued(presented, next.token, successor.expiresAt, now);
  }
}

function issued(presented: PresentedToken, refreshToken: string, refreshTokenExpiresAt: Date, at: Date): Rotation {
  const { userId, username, email, emailVerifiedAt, createdAt, roles, lockedAt } = presented;
  return {
    outcome: "issued",
    sessionId: presented.sessionId,
    user: { id: userId, username, email, emailVerifiedAt, createdAt, roles, lockedAt },
    refreshToken,
    refreshTokenExpiresAt,
    at,
  };
}
