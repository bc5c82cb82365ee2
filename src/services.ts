import { AdminService } from "./admin/admin.service.js";
import { SecurityEvents } from "./audit/security-events.js";
import type { AccessTokens } from "./auth/access-tokens.js";
import { CurrentPassword } from "./auth/current-password.js";
import type { EncryptionKeys } from "./auth/encryption-keys.js";
import type { PasswordHasher } from "./auth/password-hasher.js";
import type { RevocationStore } from "./auth/revocation/revocation-store.js";
import { AccountLinks } from "./accounts/account-links.js";
import { AccountsService } from "./accounts/accounts.service.js";
import { PasswordResetService } from "./accounts/password-reset.service.js";
import { ProfileService } from "./accounts/profile.service.js";
import { SingleUseTokens } from "./accounts/single-use-tokens.js";
import { VerificationService } from "./accounts/verification.service.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config/config.js";
import type { Database, Transaction } from "./db/prisma.js";
import { createIdentityServices, type IdentityServices } from "./identities/identity-services.js";
import type { IdentityProviderSettings } from "./identities/provider-settings.js";
import { MfaLogin } from "./mfa/mfa-login.js";
import { MfaService } from "./mfa/mfa.service.js";
import { SecondFactor } from "./mfa/second-factor.js";
import type { Mailer } from "./mail/mailer.js";
import type { Logger } from "./observability/logger.js";
import { createPasskeys, type Passkeys } from "./passkeys/passkeys.js";
import { MailRequestLimiter } from "./rate-limit/mail-requests.js";
import { PasswordAttemptLimiter, type PasswordAttemptLimits } from "./rate-limit/password-attempts.js";
import { SessionLifecycle, type AuthEvent, type ClientInfo, type TokenLifetimes } from "./sessions/session-lifecycle.js";
import { Reauthentication } from "./sessions/reauthentication.js";
import { RefreshRotation } from "./sessions/refresh-rotation.js";
import { RevocationSet } from "./sessions/revocation-set.js";
import { SessionsService } from "./sessions/sessions.service.js";
import { UsersService } from "./users/users.service.js";

export interface Services extends IdentityServices {
  users: UsersService;
  revocations: RevocationSet;
  accounts: AccountsService;
  sessions: SessionsService;
  mfa: MfaService;
  mfaLogin: MfaLogin;
  verification: VerificationService;
  passwordReset: PasswordResetService;
  profile: ProfileService;
  tokens: SingleUseTokens;
  admin: AdminService;
  audit: SecurityEvents;
  passkeys: Passkeys;
}

export interface ServicesDependencies {
  database: Database;
  revocationStore: RevocationStore;
  hasher: PasswordHasher;
  accessTokens: AccessTokens;
  encryptionKeys: EncryptionKeys;
  clock: Clock;
  lifetimes: TokenLifetimes;
  /** Live sessions one account may have; a sign-in past it ends the least recently used. */
  maxSessionsPerAccount: number;
  loginLimits: PasswordAttemptLimits;
  /** The name authenticator apps show beside an account. */
  totpIssuer: string;
  mailer: Mailer;
  accountLinks: Config["accountLinks"];
  passkeys: Config["passkeys"];
  reauthenticationWindowSeconds: number;
  identityProviders: IdentityProviderSettings;
  logger: Logger;
  onEvent?: (event: AuthEvent) => void;
}

/** Every service of the subgraph, wired once per server over the same stores. */
export function createServices(dependencies: ServicesDependencies): Services {
  const { database, revocationStore, hasher, accessTokens, encryptionKeys, mailer, clock, lifetimes, loginLimits, totpIssuer, accountLinks, logger } =
    dependencies;
  const onEvent = dependencies.onEvent ?? (() => {});
  const users = new UsersService(database);
  const audit = new SecurityEvents(database, clock);
  const lifecycle = new SessionLifecycle({
    database,
    revocationStore,
    accessTokens,
    clock,
    lifetimes,
    audit,
    maxSessionsPerAccount: dependencies.maxSessionsPerAccount,
    onEvent,
  });
  const revocations = new RevocationSet({
    database,
    store: revocationStore,
    clock,
    onRebuilt: () => onEvent("revocation_set_rebuilt"),
  });
  const rotation = new RefreshRotation({
    database,
    accessTokens,
    clock,
    refreshTokenTtlSeconds: lifetimes.refreshTokenTtlSeconds,
    reuseIntervalSeconds: lifetimes.refreshReuseIntervalSeconds,
  });
  const passwordAttempts = new PasswordAttemptLimiter(revocationStore, loginLimits, () => onEvent("login_rate_limited"));
  const currentPassword = new CurrentPassword({ database, hasher, passwordAttempts });
  const secondFactor = new SecondFactor({ encryptionKeys, revocationStore });
  const mfaLogin: MfaLogin = new MfaLogin({
    database,
    users,
    secondFactor,
    audit,
    clock,
    // A login completed with a second factor starts its session as every login does.
    startSession: (account, client, details) => sessions.startSession(account, client, details),
    onEvent,
  });
  const sessions: SessionsService = new SessionsService({
    database,
    users,
    lifecycle,
    rotation,
    revocations,
    hasher,
    accessTokens,
    passwordAttempts,
    mfaLogin,
    requireEmailVerification: accountLinks.requireEmailVerification,
    maxSessionsPerAccount: dependencies.maxSessionsPerAccount,
    audit,
    clock,
    onEvent,
  });
  const mailRequests = new MailRequestLimiter(revocationStore, accountLinks.mailRequestsPerHour);
  const tokens = new SingleUseTokens(clock, {
    verify_email: accountLinks.emailVerificationTtlSeconds,
    change_email: accountLinks.emailVerificationTtlSeconds,
    reset_password: accountLinks.passwordResetTtlSeconds,
  });
  const links = new AccountLinks(database, tokens, mailer);
  const built = { users, audit, lifecycle, sessions, mfaLogin, currentPassword, passwordAttempts, onEvent };
  const { passkeys, identities, tentative } = createCredentials(dependencies, built);
  return {
    ...identities,
    users,
    tokens,
    revocations,
    accounts: new AccountsService({ database, lifecycle, links, hasher, currentPassword, passwordAttempts, audit, clock, onEvent }),
    sessions,
    mfa: new MfaService({ database, lifecycle, currentPassword, secondFactor, mailer, audit, logger, clock, totpIssuer, onEvent }),
    mfaLogin,
    verification: new VerificationService({
      database,
      links,
      tokens,
      mailRequests,
      audit,
      clock,
      onOwnerVerified: tentative.confirm,
    }),
    passwordReset: new PasswordResetService({
      database,
      links,
      tokens,
      lifecycle,
      hasher,
      mailRequests,
      mailer,
      audit,
      clock,
      logger,
      onMailboxProven: tentative.drop,
    }),
    profile: new ProfileService({ database, links, tokens, lifecycle, currentPassword, mailRequests, audit }),
    admin: new AdminService({ database, lifecycle, audit, clock }),
    audit,
    passkeys,
  };
}

/** What the ways to sign in besides the password take from the services built before them. */
interface CredentialsDependencies {
  users: UsersService;
  audit: SecurityEvents;
  lifecycle: SessionLifecycle;
  sessions: SessionsService;
  mfaLogin: MfaLogin;
  currentPassword: CurrentPassword;
  passwordAttempts: PasswordAttemptLimiter;
  onEvent: (event: AuthEvent) => void;
}

/**
 * The ways to sign in besides the password (passkeys, identity providers), and what a proof of the
 * account's address settles for those added before anyone gave one (`tentative`).
 */
function createCredentials(dependencies: ServicesDependencies, built: CredentialsDependencies) {
  const { database, revocationStore, encryptionKeys, mailer, logger, clock } = dependencies;
  const { users, audit, lifecycle, sessions, mfaLogin, currentPassword, passwordAttempts, onEvent } = built;
  const reauthentication = new Reauthentication({ database, currentPassword, clock, windowSeconds: dependencies.reauthenticationWindowSeconds });
  const passkeys = createPasskeys({
    database,
    revocationStore,
    settings: dependencies.passkeys,
    encryptionKeys,
    reauthentication,
    users,
    audit,
    mailer,
    logger,
    clock,
    // A passkey sign-in goes on as every login does, and may complete one awaiting a second factor.
    signIn: sessions,
    mfaLogin,
  });
  const identities = createIdentityServices({
    settings: dependencies.identityProviders,
    database,
    store: revocationStore,
    users,
    lifecycle,
    // A sign-in with a provider goes on as every login does.
    login: sessions,
    registrations: passwordAttempts,
    audit,
    mailer,
    logger,
    clock,
    onEvent,
  });
  const tentative = {
    /** The owner, signed in, proved the address: what was added before is theirs. */
    confirm: async (tx: Transaction, userId: string) => {
      await identities.identityLinks.confirmTentative(tx, userId);
      await passkeys.management.confirmTentative(tx, userId);
    },
    /** Whoever holds the mailbox proved it (a reset): what was added before goes. */
    drop: async (tx: Transaction, userId: string, client: ClientInfo) => {
      await identities.identityLinks.dropTentative(tx, userId, client);
      await passkeys.management.dropTentative(tx, userId, client);
    },
  };
  return { passkeys, identities, tentative };
}
