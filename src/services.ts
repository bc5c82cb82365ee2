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
import type { Database } from "./db/prisma.js";
import { EventDeliveries } from "./events/event-deliveries.js";
import { Outbox } from "./events/outbox.js";
import { MfaLogin } from "./mfa/mfa-login.js";
import { MfaService } from "./mfa/mfa.service.js";
import { SecondFactor } from "./mfa/second-factor.js";
import type { Mailer } from "./mail/mailer.js";
import type { Logger } from "./observability/logger.js";
import { MailRequestLimiter } from "./rate-limit/mail-requests.js";
import { PasswordAttemptLimiter, type PasswordAttemptLimits } from "./rate-limit/password-attempts.js";
import { SessionLifecycle, type AuthEvent, type TokenLifetimes } from "./sessions/session-lifecycle.js";
import { RefreshRotation } from "./sessions/refresh-rotation.js";
import { RevocationSet } from "./sessions/revocation-set.js";
import { SessionsService } from "./sessions/sessions.service.js";
import { UsersService } from "./users/users.service.js";

export interface Services {
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
  eventDeliveries: EventDeliveries;
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
  logger: Logger;
  /** Where user events and mail are written; by default one that sends events nowhere. */
  outbox?: Outbox;
  onEvent?: (event: AuthEvent) => void;
}

/** How long an outbox message is tried when the caller configures none (EVENT_DELIVERY_MAX_AGE's default). */
const defaultMaxAgeSeconds = 3 * 86400;

/** Every service of the subgraph, wired once per server over the same stores. */
export function createServices(dependencies: ServicesDependencies): Services {
  const { database, revocationStore, hasher, accessTokens, encryptionKeys, mailer, clock, lifetimes, loginLimits, totpIssuer, accountLinks, logger } =
    dependencies;
  const onEvent = dependencies.onEvent ?? (() => {});
  const outbox = dependencies.outbox ?? new Outbox({ eventReceivers: [], maxAgeSeconds: defaultMaxAgeSeconds }, clock);
  const users = new UsersService(database);
  // Every recorded security event that other services should hear of is emitted with it.
  const audit = new SecurityEvents(database, clock, outbox.follow);
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
    startSession: (account, client) => sessions.startSession(account, client),
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
  return {
    users,
    tokens,
    revocations,
    accounts: new AccountsService({ database, lifecycle, links, hasher, currentPassword, passwordAttempts, audit, outbox, clock, onEvent }),
    sessions,
    mfa: new MfaService({ database, lifecycle, currentPassword, secondFactor, mailer, audit, logger, clock, totpIssuer, onEvent }),
    mfaLogin,
    verification: new VerificationService({ database, links, tokens, mailRequests, audit, clock }),
    passwordReset: new PasswordResetService({ database, links, tokens, lifecycle, hasher, mailRequests, mailer, audit, clock, logger }),
    profile: new ProfileService({ database, links, tokens, lifecycle, currentPassword, mailRequests, audit, outbox }),
    admin: new AdminService({ database, lifecycle, audit, clock }),
    audit,
    eventDeliveries: new EventDeliveries(database, outbox, clock),
  };
}
