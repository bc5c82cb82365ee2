import { effectiveRoles } from "../admin/roles.js";
import type { SecurityEvents } from "../audit/security-events.js";
import { InvalidAccessTokenError, type AccessTokens } from "../auth/access-tokens.js";
import type { PasswordHasher } from "../auth/password-hasher.js";
import { codePointLength, passwordLength } from "../auth/password-policy.js";
import type { Clock } from "../clock.js";
import type { Database } from "../db/prisma.js";
import type { Prisma } from "../generated/prisma/client.js";
import {
  AccountLockedError,
  BadUserInputError,
  EmailNotVerifiedError,
  InvalidCredentialsError,
  InvalidRefreshTokenError,
  RateLimitedError,
  MfaRequiredError,
  RefreshTokenReusedError,
  UnauthenticatedError,
} from "../errors/errors.js";
import type { PasswordAttemptLimiter } from "../rate-limit/password-attempts.js";
import type { MfaLogin } from "../mfa/mfa-login.js";
import { foldIdentifier } from "../users/identity.js";
import type { LoginAccount, UsersService } from "../users/users.service.js";
import type { RefreshRotation } from "./refresh-rotation.js";
import type { RevocationSet } from "./revocation-set.js";
import {
  type AuthEvent,
  type AuthResult,
  type ClientInfo,
  type LoginDetails,
  type SessionLifecycle,
  type Viewer,
} from "./session-lifecycle.js";

export interface SessionInfo {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  userAgent: string | null;
  current: boolean;
}

export interface SessionsServiceDependencies {
  database: Database;
  users: UsersService;
  lifecycle: SessionLifecycle;
  rotation: RefreshRotation;
  revocations: RevocationSet;
  hasher: PasswordHasher;
  accessTokens: AccessTokens;
  passwordAttempts: PasswordAttemptLimiter;
  /** Issues the mfaToken of a login whose account has a second factor. */
  mfaLogin: Pick<MfaLogin, "challenge">;
  /** Accounts whose address was never verified cannot log in (EMAIL_NOT_VERIFIED). */
  requireEmailVerification: boolean;
  audit: SecurityEvents;
  clock: Clock;
  onEvent: (event: AuthEvent) => void;
}

const maxIdentifierLength = 320;

/** Signing in and out: login, authentication of access tokens, refresh rotation, logout, the session list. */
export class SessionsService {
  constructor(private readonly dependencies: SessionsServiceDependencies) {}

  async login(input: { usernameOrEmail: string; password: string }, client: ClientInfo = {}): Promise<AuthResult> {
    const { users, hasher, passwordAttempts } = this.dependencies;
    const identifier = foldIdentifier(input.usernameOrEmail);
    if (identifier.length === 0 || identifier.length > maxIdentifierLength) {
      throw new BadUserInputError("usernameOrEmail", "Enter your username or e-mail address.");
    }
    const account = await users.findForLogin(identifier);
    // Counted against the account itself, whichever of its names was typed; no password is
    // checked past the limit.
    const attempt = await passwordAttempts.begin(account ? `id:${account.user.id}` : `name:${identifier}`, client.ip).catch(async (error: unknown) => {
      // A lockout of an existing account is recorded once per window, not at every refusal.
      if (error instanceof RateLimitedError && error.startsLockout && account) {
        const { database, audit } = this.dependencies;
        await audit.record(database, { kind: "login_rate_limited", userId: account.user.id, actorId: null, client });
      }
      throw error;
    });
    const passwordFits = codePointLength(input.password) <= passwordLength.max;
    // Unknown users, and accounts without a password, cost one verification too, so timing does not tell them apart.
    const verified =
      account?.passwordHash && passwordFits
        ? await hasher.verify(account.passwordHash, input.password)
        : (await hasher.verify(await hasher.dummyHash(), input.password)) && false;
    if (!account || !verified) throw await this.failedLogin(account?.user.id, client, new InvalidCredentialsError());
    // The right password: not a failure, whatever follows (second-factor codes have their own limit).
    await attempt.succeeded();
    return this.afterFirstFactor(account, client);
  }

  /**
   * What follows a proven first factor (the password, or a sign-in with an identity provider): a
   * locked account is refused (saying so only now, so guessers learn nothing), then, where
   * verification is required, one whose address is unverified; one with a second factor answers
   * MFA_REQUIRED; any other gets its session. `details` go into the login's security events.
   */
  async afterFirstFactor(account: Omit<LoginAccount, "passwordHash">, client: ClientInfo, details?: LoginDetails): Promise<AuthResult> {
    const { mfaLogin, onEvent } = this.dependencies;
    if (account.user.lockedAt) throw await this.failedLogin(account.user.id, client, new AccountLockedError(), details);
    // Only after the first factor: to anyone else, an unverified account looks like any other.
    if (this.dependencies.requireEmailVerification && account.user.emailVerifiedAt === null) {
      throw await this.failedLogin(account.user.id, client, new EmailNotVerifiedError(), details);
    }
    if (account.mfaEnabled) {
      onEvent("login_mfa_required");
      throw new MfaRequiredError(await mfaLogin.challenge({ id: account.user.id, credentialsVersion: account.credentialsVersion }, details));
    }
    return this.startSession(account, client, details);
  }

  /**
   * A session for an account that just proved who it is (a login, or a login completed with a
   * second factor), written only while its credentials are still those that were checked.
   */
  async startSession(account: Pick<LoginAccount, "user" | "credentialsVersion">, client: ClientInfo, details?: LoginDetails): Promise<AuthResult> {
    const { lifecycle, clock, onEvent } = this.dependencies;
    const userId = account.user.id;
    const session = lifecycle.prepare(clock.now(), client);
    // The access token is signed while the session is written; it is handed out only once stored.
    const [result, stored] = await Promise.all([
      lifecycle.tokensFor(account.user, session),
      lifecycle.insert({ id: userId, credentialsVersion: account.credentialsVersion }, session, client, "login_succeeded", undefined, details),
    ]);
    // The credentials changed while they were being checked: the ones checked are no longer valid.
    if (!stored) throw await this.failedLogin(userId, client, new InvalidCredentialsError(), details);
    // Locked meanwhile: nothing was written.
    if (stored.locked) throw await this.failedLogin(userId, client, new AccountLockedError(), details);
    onEvent("login_succeeded");
    // Roles changed meanwhile: the token carries the stored ones.
    if (stored.roles.join() !== account.user.roles.join()) return lifecycle.tokensFor({ ...account.user, roles: stored.roles }, session);
    return result;
  }

  /** Counts and records a refused login (of an existing account: a name of none is about no one), and hands the error back. */
  private async failedLogin<E extends InvalidCredentialsError | AccountLockedError | EmailNotVerifiedError>(
    userId: string | undefined,
    client: ClientInfo,
    error: E,
    loginDetails?: LoginDetails,
  ): Promise<E> {
    const { database, audit, onEvent } = this.dependencies;
    onEvent("login_failed");
    if (userId) {
      // The right password refused for another reason: say which (the client was told too).
      const reason = error instanceof AccountLockedError ? "locked" : error instanceof EmailNotVerifiedError ? "email_not_verified" : undefined;
      const details = reason || loginDetails ? { ...loginDetails, ...(reason ? { reason } : {}) } : undefined;
      await audit.record(database, { kind: "login_failed", userId, actorId: null, client, details });
    }
    return error;
  }

  /** The viewer named by a bearer token: valid signature and lifetime, and its session not ended. */
  async authenticate(accessToken: string): Promise<Viewer> {
    let claims;
    try {
      claims = await this.dependencies.accessTokens.verify(accessToken);
    } catch (error) {
      if (error instanceof InvalidAccessTokenError) throw new UnauthenticatedError();
      throw error;
    }
    if (await this.dependencies.revocations.isRevoked(claims.sessionId)) throw new UnauthenticatedError();
    return { userId: claims.userId, sessionId: claims.sessionId, roles: claims.roles };
  }

  /**
   * Rotation: the presented token dies and a new pair is issued. A token that was already rotated
   * is a stolen copy (or the original, after the thief used it): its whole session ends; unless
   * the client that rotated it presents it again within the reuse interval (tabs refreshing at
   * once), which gets the same successor.
   */
  async refresh(refreshToken: string, client: ClientInfo = {}): Promise<AuthResult> {
    const { rotation, lifecycle, accessTokens, onEvent } = this.dependencies;
    const rotated = await rotation.rotate(refreshToken, client);
    if (rotated.outcome === "reused") {
      const { userId } = rotated;
      await lifecycle.end({ id: rotated.sessionId }, "refresh_token_reused", async (tx, ended) => {
        // Once, by whichever presentation ended the session; a thief is no signed-in actor.
        if (ended > 0) await this.dependencies.audit.record(tx, { kind: "refresh_token_reused", userId, actorId: null, client });
      });
      onEvent("refresh_token_reused");
      throw new RefreshTokenReusedError();
    }
    if (rotated.outcome === "invalid") {
      onEvent("refresh_rejected");
      throw new InvalidRefreshTokenError();
    }
    onEvent("refresh_succeeded");
    const access = await accessTokens.issue(rotated.user.id, rotated.sessionId, effectiveRoles(rotated.user.roles), rotated.at);
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken: rotated.refreshToken,
      refreshTokenExpiresAt: rotated.refreshTokenExpiresAt,
      user: rotated.user,
    };
  }

  async logout(viewer: Viewer, client: ClientInfo): Promise<boolean> {
    return (await this.endOwnSessions(viewer, { id: viewer.sessionId }, "logout", client)) > 0;
  }

  async logoutAll(viewer: Viewer, client: ClientInfo): Promise<boolean> {
    await this.endOwnSessions(viewer, { userId: viewer.userId }, "logout_all", client);
    return true;
  }

  /** Ends one of the viewer's own sessions; false when it is unknown, not theirs, or already ended. */
  async revokeSession(viewer: Viewer, sessionId: string, client: ClientInfo): Promise<boolean> {
    return (await this.endOwnSessions(viewer, { id: sessionId, userId: viewer.userId }, "revoked", client)) > 0;
  }

  /** Ends the viewer's matching sessions; one `session_ended` event when any ended (none for a repeat). */
  private async endOwnSessions(viewer: Viewer, where: Prisma.SessionWhereInput, reason: string, client: ClientInfo): Promise<number> {
    const { lifecycle, audit } = this.dependencies;
    const { userId } = viewer;
    const { ended } = await lifecycle.end(where, reason, async (tx, count) => {
      if (count > 0) await audit.record(tx, { kind: "session_ended", userId, actorId: userId, client, details: { reason, count } });
    });
    return ended;
  }

  async listSessions(viewer: Viewer): Promise<SessionInfo[]> {
    const sessions = await this.dependencies.database.session.findMany({
      where: { userId: viewer.userId, revokedAt: null, expiresAt: { gt: this.dependencies.clock.now() } },
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
   * Deletes sessions that ended or expired more than `retentionSeconds` ago, with their refresh
   * tokens (cascade), so the tables do not grow without bound. Live sessions keep every rotated
   * token: reuse detection needs them.
   */
  async purgeEndedSessions(retentionSeconds: number): Promise<number> {
    const before = new Date(this.dependencies.clock.now().getTime() - retentionSeconds * 1000);
    const { count } = await this.dependencies.database.session.deleteMany({
      where: { OR: [{ revokedAt: { lt: before } }, { expiresAt: { lt: before } }] },
    });
    return count;
  }
}
