import type { SecurityEvents } from "../audit/security-events.js";
import { InvalidAccessTokenError, type AccessTokenClaims, type AccessTokens } from "../auth/access-tokens.js";
import { effectiveRoles } from "../auth/roles.js";
import type { Viewer } from "../auth/viewer.js";
import type { Clock } from "../clock.js";
import type { Database } from "../db/prisma.js";
import {
  AccountLockedError,
  type AppError,
  EmailNotVerifiedError,
  InvalidCredentialsError,
  InvalidRefreshTokenError,
  RateLimitedError,
  MfaRequiredError,
  RefreshTokenReusedError,
  UnauthenticatedError,
} from "../errors/errors.js";
import type { Prisma } from "../generated/prisma/client.js";
import type { ClientInfo } from "../http/client-info.js";
import type { EventCounter } from "../observability/events.js";
import type { PasswordCheck } from "../passwords/password-check.js";
import type { PasswordAttempt, PasswordAttemptLimiter } from "../rate-limit/password-attempts.js";
import { parseLoginIdentifier } from "../users/identity.js";
import type { LoginAccount, UsersService } from "../users/users.service.js";
import type { RefreshRotation } from "./refresh-rotation.js";
import type { RevocationSet } from "./revocation-set.js";
import type { SecondFactorChallenges } from "./second-factor-challenges.js";
import type { AuthResult, LoginDetails, SessionLifecycle } from "./session-lifecycle.js";
import type { SignInProof } from "./sign-in-proof.js";

export interface SessionInfo {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  userAgent: string | null;
  current: boolean;
}

/**
 * The steps of a login every credential shares, for sign-ins with a credential other than the
 * password: the same limits, refusals, events, second factor and session as `login`.
 */
export type CredentialSignIn = Pick<SessionsService, "attempt" | "refuse" | "proceed">;

export interface SessionsServiceDependencies {
  database: Database;
  users: UsersService;
  lifecycle: SessionLifecycle;
  rotation: RefreshRotation;
  revocations: RevocationSet;
  accessTokens: AccessTokens;
  passwordCheck: PasswordCheck;
  /** The login limits, which sign-ins with other credentials count against too. */
  passwordAttempts: PasswordAttemptLimiter;
  /** Issues the mfaToken of a login whose account has a second factor, saying what the login proved first. */
  secondFactor: SecondFactorChallenges;
  /** Accounts whose address was never verified cannot log in (EMAIL_NOT_VERIFIED). */
  requireEmailVerification: boolean;
  /** Live sessions one account may have: the session list is never longer. */
  maxSessionsPerAccount: number;
  audit: SecurityEvents;
  clock: Clock;
  onEvent: EventCounter;
}

/** Signing in and out: login, authentication of access tokens, refresh rotation, logout, the session list. */
export class SessionsService {
  constructor(private readonly dependencies: SessionsServiceDependencies) {}

  async login(input: { usernameOrEmail: string; password: string }, client: ClientInfo = {}): Promise<AuthResult> {
    const { users, passwordCheck } = this.dependencies;
    const identifier = parseLoginIdentifier(input.usernameOrEmail);
    const account = await users.findForLogin(identifier);
    // Counted against the account itself, whichever of its names was typed; no password is
    // checked past the limit. The right password is not counted as a failure, whatever follows
    // (second-factor codes have their own limit).
    const attemptKey = account ? `id:${account.user.id}` : `name:${identifier}`;
    const stored = account && { id: account.user.id, passwordHash: account.passwordHash };
    const verified = await passwordCheck
      .matches(stored, attemptKey, input.password, client)
      .catch((error: unknown) => this.refused(error, account?.user.id, client));
    if (!account || !verified) throw await this.refuse(account?.user.id, client, new InvalidCredentialsError());
    return this.proceed(account, client);
  }

  /**
   * Counts a sign-in attempt with a credential other than the password against `subject` (the
   * account, `id:<id>`, once known) and the client, within the login limits: RATE_LIMITED past
   * them, and no credential is checked then. Settle it once the credential holds.
   */
  async attempt(subject: string, userId: string | undefined, client: ClientInfo): Promise<PasswordAttempt> {
    return this.dependencies.passwordAttempts
      .begin(subject, client.ip)
      .catch((error: unknown) => this.refused(error, userId, client));
  }

  /**
   * What follows a first factor that holds, whichever it was (the password, a passkey, a sign-in
   * with an identity provider): a locked account is refused (said only now, so guessers learn
   * nothing), so is an unverified one where verification is required (to anyone else it looks like
   * any other); an account with a second factor gets an mfaToken unless the credential proved two
   * factors itself; then the session.
   */
  async proceed(
    account: Omit<LoginAccount, "passwordHash">,
    client: ClientInfo,
    proof: SignInProof = {},
  ): Promise<AuthResult> {
    const { secondFactor, onEvent } = this.dependencies;
    const { details } = proof;
    if (account.user.lockedAt) throw await this.refuse(account.user.id, client, new AccountLockedError(), details);
    if (this.dependencies.requireEmailVerification && account.user.emailVerifiedAt === null) {
      throw await this.refuse(account.user.id, client, new EmailNotVerifiedError(), details);
    }
    if (account.mfaEnabled && !proof.multiFactor) {
      onEvent("login_mfa_required");
      const credentials = { id: account.user.id, credentialsVersion: account.credentialsVersion };
      throw new MfaRequiredError(await secondFactor.issue(credentials, proof.firstFactor ?? "password", details));
    }
    return this.startSession(account, client, details);
  }

  /**
   * A session for an account that just proved who it is (a login, or a login completed with a
   * second factor), written only while its credentials are still those that were checked.
   * `details` says how it signed in when not with its password alone.
   */
  async startSession(
    account: Pick<LoginAccount, "user" | "credentialsVersion">,
    client: ClientInfo,
    details?: LoginDetails,
  ): Promise<AuthResult> {
    const { lifecycle, clock, onEvent } = this.dependencies;
    const userId = account.user.id;
    const session = lifecycle.prepare(clock.now(), client);
    // The access token is signed while the session is written; it is handed out only once stored.
    const [result, stored] = await Promise.all([
      lifecycle.tokensFor(account.user, session),
      lifecycle.insert({ id: userId, credentialsVersion: account.credentialsVersion }, session, client, details),
    ]);
    // The credentials changed while they were being checked, so the session was not written.
    if (!stored) throw await this.refuse(userId, client, new InvalidCredentialsError(), details);
    // Locked meanwhile: nothing was written.
    if (stored.locked) throw await this.refuse(userId, client, new AccountLockedError(), details);
    onEvent("login_succeeded");
    // Roles changed meanwhile: the token carries the stored ones.
    if (stored.roles.join() !== account.user.roles.join())
      return lifecycle.tokensFor({ ...account.user, roles: stored.roles }, session);
    return result;
  }

  /** A refused attempt goes on refused; a lockout of an existing account is recorded once per window, not at every refusal. */
  private async refused(error: unknown, userId: string | undefined, client: ClientInfo): Promise<never> {
    if (error instanceof RateLimitedError && error.startsLockout && userId) {
      const { database, audit } = this.dependencies;
      await audit.record(database, { kind: "login_rate_limited", userId, actorId: null, client });
    }
    throw error;
  }

  /**
   * Counts and records a refused login (of an existing account: a name of none is about no one),
   * and hands the error back. `details` says how it signed in when not with its password.
   */
  async refuse<E extends AppError>(
    userId: string | undefined,
    client: ClientInfo,
    error: E,
    details?: LoginDetails,
  ): Promise<E> {
    const { database, audit, onEvent } = this.dependencies;
    onEvent("login_failed");
    if (userId) {
      // The right credential refused for another reason: say which (the client was told too).
      const reason =
        error instanceof AccountLockedError
          ? "locked"
          : error instanceof EmailNotVerifiedError
            ? "email_not_verified"
            : undefined;
      const recorded = reason || details ? { ...(reason ? { reason } : {}), ...details } : undefined;
      await audit.record(database, { kind: "login_failed", userId, actorId: null, client, details: recorded });
    }
    return error;
  }

  /** The viewer named by a bearer token: valid signature and lifetime, and its session not ended. */
  async authenticate(accessToken: string): Promise<Viewer> {
    let claims: AccessTokenClaims;
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
        // Recorded once, by whichever presentation ended the session, and with no actor: whoever
        // presented the copy did not sign in.
        if (ended > 0)
          await this.dependencies.audit.record(tx, { kind: "refresh_token_reused", userId, actorId: null, client });
      });
      onEvent("refresh_token_reused");
      throw new RefreshTokenReusedError();
    }
    if (rotated.outcome === "invalid") {
      onEvent("refresh_rejected");
      throw new InvalidRefreshTokenError();
    }
    onEvent("refresh_succeeded");
    const access = await accessTokens.issue(
      rotated.user.id,
      rotated.sessionId,
      effectiveRoles(rotated.user.roles),
      rotated.at,
    );
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
  private async endOwnSessions(
    viewer: Viewer,
    where: Prisma.SessionWhereInput,
    reason: string,
    client: ClientInfo,
  ): Promise<number> {
    const { lifecycle, audit } = this.dependencies;
    const { userId } = viewer;
    const { ended } = await lifecycle.end(where, reason, async (tx, count) => {
      if (count > 0)
        await audit.record(tx, { kind: "session_ended", userId, actorId: userId, client, details: { reason, count } });
    });
    return ended;
  }

  /** Newest first; at most MAX_SESSIONS_PER_ACCOUNT, which only a lowered setting leaves live sessions beyond until the next sign-in. */
  async listSessions(viewer: Viewer): Promise<SessionInfo[]> {
    const { database, clock, maxSessionsPerAccount } = this.dependencies;
    const sessions = await database.session.findMany({
      where: { userId: viewer.userId, revokedAt: null, expiresAt: { gt: clock.now() } },
      orderBy: { createdAt: "desc" },
      take: maxSessionsPerAccount,
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
