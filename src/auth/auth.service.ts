import type { Clock } from "../clock.js";
import type { Database, Transaction } from "../db/prisma.js";
import {
  BadUserInputError,
  EmailTakenError,
  InvalidCredentialsError,
  InvalidRefreshTokenError,
  RateLimitedError,
  RefreshTokenReusedError,
  UnauthenticatedError,
  UsernameTakenError,
} from "../errors/errors.js";
import { Prisma, type Session } from "../generated/prisma/client.js";
import { normalizeEmail, normalizeUsername } from "../users/identity.js";
import { publicUserColumns, type UserRecord, type UsersService } from "../users/users.service.js";
import { InvalidAccessTokenError, type AccessTokens } from "./access-tokens.js";
import type { PasswordHasher } from "./password-hasher.js";
import { assertStrongPassword, codePointLength, passwordLength } from "./password-policy.js";
import { hashRefreshToken, newRefreshToken, newSessionId } from "./refresh-tokens.js";
import type { RevocationStore } from "./revocation/revocation-store.js";

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

export interface SessionInfo {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  userAgent: string | null;
  current: boolean;
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

export interface AuthSettings {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Login attempts allowed per account name, and per client address, in one window. */
  loginAttemptsPerWindow: number;
  loginWindowSeconds: number;
}

export const defaultLoginLimits = { loginAttemptsPerWindow: 10, loginWindowSeconds: 15 * 60 } as const;

export interface AuthServiceDependencies {
  database: Database;
  users: UsersService;
  revocationStore: RevocationStore;
  hasher: PasswordHasher;
  accessTokens: AccessTokens;
  clock: Clock;
  settings: AuthSettings;
  onEvent?: (event: AuthEvent) => void;
}

const maxIdentifierLength = 320;
const userAgentMaxLength = 512;

// Foreign keys are checked at the end of the statement, when the session row exists.
const insertSessionWithRefreshToken = `WITH session AS (
    INSERT INTO sessions (id, user_id, user_agent, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)
  )
  INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($6, $1, $4, $5)`;

export class AuthService {
  private readonly database: Database;
  private readonly users: UsersService;
  private readonly store: RevocationStore;
  private readonly hasher: PasswordHasher;
  private readonly accessTokens: AccessTokens;
  private readonly clock: Clock;
  private readonly settings: AuthSettings;
  private readonly onEvent: (event: AuthEvent) => void;

  constructor(dependencies: AuthServiceDependencies) {
    this.database = dependencies.database;
    this.users = dependencies.users;
    this.store = dependencies.revocationStore;
    this.hasher = dependencies.hasher;
    this.accessTokens = dependencies.accessTokens;
    this.clock = dependencies.clock;
    this.settings = dependencies.settings;
    this.onEvent = dependencies.onEvent ?? (() => {});
  }

  async register(input: { email: string; username: string; password: string }, client: ClientInfo = {}): Promise<AuthResult> {
    const email = normalizeEmail(input.email);
    const username = normalizeUsername(input.username);
    assertStrongPassword(input.password);
    await this.assertAvailable(email, username.key);
    const passwordHash = await this.hasher.hash(input.password);
    const now = this.clock.now();
    const session = this.newSession(now, client);
    try {
      const user = await this.database.user.create({
        data: {
          email,
          username: username.display,
          usernameKey: username.key,
          passwordHash,
          createdAt: now,
          sessions: { create: session.row },
        },
        select: publicUserColumns,
      });
      this.onEvent("register");
      return await this.tokensFor(user, session);
    } catch (error) {
      // Lost a race with a concurrent registration of the same name or address.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
        await this.assertAvailable(email, username.key);
      }
      throw error;
    }
  }

  async login(input: { usernameOrEmail: string; password: string }, client: ClientInfo = {}): Promise<AuthResult> {
    const identifier = input.usernameOrEmail.normalize("NFKC").trim().toLowerCase();
    if (identifier.length === 0 || identifier.length > maxIdentifierLength) {
      throw new BadUserInputError("usernameOrEmail", "Enter your username or e-mail address.");
    }
    // The account is read while the attempt is counted; no password is checked past the limit.
    const [, account] = await Promise.all([
      this.limitPasswordAttempts(`login:name:${identifier}`, client.ip),
      this.users.findForLogin(identifier),
    ]);
    const passwordFits = codePointLength(input.password) <= passwordLength.max;
    // Unknown users cost one verification too, so timing does not tell them apart.
    const verified =
      account && passwordFits
        ? await this.hasher.verify(account.passwordHash, input.password)
        : (await this.hasher.verify(await this.hasher.dummyHash(), input.password)) && false;
    if (!account || !verified) {
      this.onEvent("login_failed");
      throw new InvalidCredentialsError();
    }
    const session = this.newSession(this.clock.now(), client);
    // The access token is signed while the session is written; it is handed out only once stored.
    const [result] = await Promise.all([
      this.tokensFor(account.user, session),
      this.insertSession(account.user.id, session.row),
    ]);
    this.onEvent("login_succeeded");
    return result;
  }

  /** The viewer named by a bearer token: valid signature and lifetime, and its session not ended. */
  async authenticate(accessToken: string): Promise<Viewer> {
    let claims;
    try {
      claims = await this.accessTokens.verify(accessToken);
    } catch (error) {
      if (error instanceof InvalidAccessTokenError) throw new UnauthenticatedError();
      throw error;
    }
    if (await this.store.isSessionRevoked(claims.sessionId)) throw new UnauthenticatedError();
    return { userId: claims.userId, sessionId: claims.sessionId };
  }

  /**
   * Rotation: the presented token dies and a new pair is issued, in one transaction. A token that
   * was already rotated is a stolen copy (or the original, after the thief used it): its whole
   * session ends.
   */
  async refresh(refreshToken: string, client: ClientInfo = {}): Promise<AuthResult> {
    const tokenHash = hashRefreshToken(refreshToken);
    const now = this.clock.now();
    const next = newRefreshToken();
    const refreshTokenExpiresAt = this.refreshTokenExpiry(now);

    const rotated = await this.database.$transaction(async (tx) => {
      // The row lock makes concurrent presentations of one token queue here: exactly one wins.
      const { count } = await tx.refreshToken.updateMany({
        where: { tokenHash, rotatedAt: null, expiresAt: { gt: now }, session: { revokedAt: null } },
        data: { rotatedAt: now },
      });
      if (count === 0) return null;
      const { session } = await tx.refreshToken.findUniqueOrThrow({
        where: { tokenHash },
        select: { session: { select: { id: true, user: { select: publicUserColumns } } } },
      });
      await tx.refreshToken.create({
        data: { tokenHash: next.tokenHash, sessionId: session.id, createdAt: now, expiresAt: refreshTokenExpiresAt },
      });
      await tx.session.update({
        where: { id: session.id },
        data: {
          lastUsedAt: now,
          expiresAt: refreshTokenExpiresAt,
          ...(client.userAgent ? { userAgent: client.userAgent.slice(0, userAgentMaxLength) } : {}),
        },
      });
      return session;
    });

    if (!rotated) {
      const known = await this.database.refreshToken.findUnique({
        where: { tokenHash },
        select: { rotatedAt: true, sessionId: true },
      });
      if (known?.rotatedAt) {
        await this.endSessions({ id: known.sessionId }, "refresh_token_reused");
        this.onEvent("refresh_token_reused");
        throw new RefreshTokenReusedError();
      }
      this.onEvent("refresh_rejected");
      throw new InvalidRefreshTokenError();
    }
    this.onEvent("refresh_succeeded");
    const access = await this.accessTokens.issue(rotated.user.id, rotated.id);
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken: next.token,
      refreshTokenExpiresAt,
      user: rotated.user,
    };
  }

  async logout(viewer: Viewer): Promise<boolean> {
    return (await this.endSessions({ id: viewer.sessionId }, "logout")) > 0;
  }

  async logoutAll(viewer: Viewer): Promise<boolean> {
    await this.endSessions({ userId: viewer.userId }, "logout_all");
    return true;
  }

  /** Ends one of the viewer's own sessions; false when it is unknown, not theirs, or already ended. */
  async revokeSession(viewer: Viewer, sessionId: string): Promise<boolean> {
    return (await this.endSessions({ id: sessionId, userId: viewer.userId }, "revoked")) > 0;
  }

  /**
   * Deletes sessions that ended or expired more than `retentionSeconds` ago, with their refresh
   * tokens (cascade), so the tables do not grow without bound. Live sessions keep every rotated
   * token: reuse detection needs them.
   */
  async purgeEndedSessions(retentionSeconds: number): Promise<number> {
    const before = new Date(this.clock.now().getTime() - retentionSeconds * 1000);
    const { count } = await this.database.session.deleteMany({
      where: { OR: [{ revokedAt: { lt: before } }, { expiresAt: { lt: before } }] },
    });
    return count;
  }

  async listSessions(viewer: Viewer): Promise<SessionInfo[]> {
    const sessions = await this.database.session.findMany({
      where: { userId: viewer.userId, revokedAt: null, expiresAt: { gt: this.clock.now() } },
      orderBy: { createdAt: "desc" },
    });
    return sessions.map((session) => ({
      id: session.id,
      createdAt: session.createdAt,
      lastUsedAt: session.lastUsedAt,
      userAgent: session.userAgent,
      current: session.id === viewer.sessionId,
    }));
  }

  /**
   * Every session of the account ends, the presenting one included; the returned pair starts the
   * only session left.
   */
  async changePassword(viewer: Viewer, currentPassword: string, newPassword: string, client: ClientInfo = {}): Promise<AuthResult> {
    const user = await this.database.user.findUnique({ where: { id: viewer.userId } });
    if (!user) throw new UnauthenticatedError();
    // A stolen access token must not become an unlimited password-guessing oracle.
    await this.limitPasswordAttempts(`password-change:${user.id}`, client.ip);
    const verified =
      codePointLength(currentPassword) <= passwordLength.max && (await this.hasher.verify(user.passwordHash, currentPassword));
    if (!verified) throw new InvalidCredentialsError();
    assertStrongPassword(newPassword, "newPassword");
    const passwordHash = await this.hasher.hash(newPassword);
    const session = this.newSession(this.clock.now(), client);
    const updated = await this.endSessions({ userId: user.id }, "password_changed", async (tx) => {
      const changed = await tx.user.update({ where: { id: user.id }, data: { passwordHash }, select: publicUserColumns });
      await tx.session.create({ data: { ...session.row, userId: user.id } });
      return changed;
    });
    return this.tokensFor(updated.result, session);
  }

  /**
   * Marks the matching live sessions ended and tells the revocation store, in one transaction: if
   * the store is unreachable nothing is written and the caller sees the failure.
   */
  private async endSessions(where: Prisma.SessionWhereInput, reason: string): Promise<number>;
  private async endSessions<T>(
    where: Prisma.SessionWhereInput,
    reason: string,
    alsoInTransaction: (tx: Transaction) => Promise<T>,
  ): Promise<{ ended: number; result: T }>;
  private async endSessions<T>(
    where: Prisma.SessionWhereInput,
    reason: string,
    alsoInTransaction?: (tx: Transaction) => Promise<T>,
  ): Promise<number | { ended: number; result: T }> {
    const now = this.clock.now();
    const outcome = await this.database.$transaction(async (tx) => {
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
      await this.store.revokeSessions(
        live.map((session) => session.id),
        this.longestAccessTokenLifetime(live, now),
      );
      return { ended: live.length, result: result as T };
    });
    if (outcome.ended > 0) this.onEvent("sessions_ended");
    return alsoInTransaction ? outcome : outcome.ended;
  }

  /** Access tokens are issued when a session starts or refreshes, which sets `lastUsedAt`. */
  private longestAccessTokenLifetime(sessions: Pick<Session, "lastUsedAt">[], now: Date): number {
    const newest = Math.max(...sessions.map((session) => session.lastUsedAt.getTime()));
    const expiresAt = newest + this.settings.accessTokenTtlSeconds * 1000;
    return Math.max(1, Math.ceil((expiresAt - now.getTime()) / 1000));
  }

  /** Password guesses per account (`subjectKey`) and per client address, in a fixed window. */
  private async limitPasswordAttempts(subjectKey: string, ip: string | undefined): Promise<void> {
    const { loginAttemptsPerWindow, loginWindowSeconds } = this.settings;
    const keys = [subjectKey, ...(ip ? [`login:ip:${ip}`] : [])];
    for (const key of keys) {
      const { count, resetInSeconds } = await this.store.hit(key, loginWindowSeconds);
      // Per address the allowance is larger: many people may share one (NAT, offices).
      const limit = key.startsWith("login:ip:") ? loginAttemptsPerWindow * 10 : loginAttemptsPerWindow;
      if (count > limit) {
        this.onEvent("login_rate_limited");
        throw new RateLimitedError(resetInSeconds);
      }
    }
  }

  private async assertAvailable(email: string, usernameKey: string): Promise<void> {
    const taken = await this.database.user.findMany({
      where: { OR: [{ email }, { usernameKey }] },
      select: { email: true },
    });
    if (taken.some((user) => user.email === email)) throw new EmailTakenError();
    if (taken.length > 0) throw new UsernameTakenError();
  }

  private refreshTokenExpiry(now: Date): Date {
    return new Date(now.getTime() + this.settings.refreshTokenTtlSeconds * 1000);
  }

  private newSession(now: Date, client: ClientInfo) {
    const refresh = newRefreshToken();
    const expiresAt = this.refreshTokenExpiry(now);
    return {
      refreshToken: refresh.token,
      row: {
        id: newSessionId(),
        userAgent: client.userAgent?.slice(0, userAgentMaxLength) ?? null,
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
  private async insertSession(userId: string, row: ReturnType<AuthService["newSession"]>["row"]): Promise<void> {
    const token = row.refreshTokens.create;
    await this.database.pool.query({
      name: "insert-session",
      text: insertSessionWithRefreshToken,
      values: [row.id, userId, row.userAgent, row.createdAt, row.expiresAt, token.tokenHash],
    });
  }

  private async tokensFor(user: UserRecord, session: ReturnType<AuthService["newSession"]>): Promise<AuthResult> {
    const access = await this.accessTokens.issue(user.id, session.row.id);
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken: session.refreshToken,
      refreshTokenExpiresAt: session.row.expiresAt,
      user,
    };
  }
}
