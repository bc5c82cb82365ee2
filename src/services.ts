import { AccountLinks } from "./accounts/account-links.js";
import { AccountsService } from "./accounts/accounts.service.js";
import { PasswordResetService } from "./accounts/password-reset.service.js";
import { ProfileService } from "./accounts/profile.service.js";
import type { AccountSettings } from "./accounts/settings.js";
import { SingleUseTokens } from "./accounts/single-use-tokens.js";
import { VerificationService } from "./accounts/verification.service.js";
import { AdminService } from "./admin/admin.service.js";
import { SecurityEvents } from "./audit/security-events.js";
import type { AccessTokens } from "./auth/access-tokens.js";
import type { EncryptionKeys } from "./auth/encryption-keys.js";
import type { PasswordHasher } from "./auth/password-hasher.js";
import type { Clock } from "./clock.js";
import type { Database, Transaction } from "./db/prisma.js";
import type { LaggingReads } from "./db/read-replicas.js";
import { EventDeliveries } from "./events/event-deliveries.js";
import type { Outbox } from "./events/outbox.js";
import type { ClientInfo } from "./http/client-info.js";
import { createIdentityServices, type IdentityServices } from "./identities/identity-services.js";
import type { IdentityProviderSettings } from "./identities/settings.js";
import type { Mailer } from "./mail/mailer.js";
import { MfaChallenges } from "./mfa/mfa-challenges.js";
import { MfaLogin } from "./mfa/mfa-login.js";
import { MfaService } from "./mfa/mfa.service.js";
import { SecondFactor } from "./mfa/second-factor.js";
import type { MfaSettings } from "./mfa/settings.js";
import type { EventCounter } from "./observability/events.js";
import type { Logger } from "./observability/logger.js";
import { createPasskeys, type Passkeys } from "./passkeys/passkeys.js";
import type { PasskeySettings } from "./passkeys/relying-party.js";
import { CurrentPassword } from "./passwords/current-password.js";
import { PasswordCheck } from "./passwords/password-check.js";
import { MailRequestLimiter } from "./rate-limit/mail-requests.js";
import { PasswordAttemptLimiter, type PasswordAttemptLimits } from "./rate-limit/password-attempts.js";
import { Reauthentication } from "./sessions/reauthentication.js";
import { RefreshRotation } from "./sessions/refresh-rotation.js";
import { RevocationSet } from "./sessions/revocation-set.js";
import { SessionLifecycle } from "./sessions/session-lifecycle.js";
import { SessionsService } from "./sessions/sessions.service.js";
import type { SessionSettings } from "./sessions/settings.js";
import type { Store } from "./store/store.js";
import { UsersService } from "./users/users.service.js";
import { confirmTentativePassword } from "./users/sign-in-methods.js";

export interface Services extends IdentityServices {
  users: UsersService;
  revocations: RevocationSet;
  accounts: AccountsService;
  sessions: SessionsService;
  mfa: MfaService;
  mfaLogin: MfaLogin;
  mfaChallenges: MfaChallenges;
  verification: VerificationService;
  passwordReset: PasswordResetService;
  profile: ProfileService;
  singleUseTokens: SingleUseTokens;
  admin: AdminService;
  audit: SecurityEvents;
  passkeys: Passkeys;
  eventDeliveries: EventDeliveries;
}

export interface ServicesDependencies {
  database: Database;
  /** Reads that may lag: a replica when one serves, else the primary. */
  laggingReads: LaggingReads;
  store: Store;
  hasher: PasswordHasher;
  accessTokens: AccessTokens;
  encryptionKeys: EncryptionKeys;
  clock: Clock;
  mailer: Mailer;
  /** Where user events are written, in the transaction of their action. */
  outbox: Outbox;
  sessions: SessionSettings;
  passwordAttempts: PasswordAttemptLimits;
  mfa: MfaSettings;
  accounts: AccountSettings;
  passkeys: PasskeySettings;
  identityProviders: IdentityProviderSettings;
  logger: Logger;
  onEvent?: EventCounter;
}

/** Every service of the subgraph, wired once per server over the same stores. */
export function createServices(dependencies: ServicesDependencies): Services {
  const { database, mailer, clock, logger, laggingReads } = dependencies;
  const core = createSignInServices(dependencies);
  const { users, audit, lifecycle, currentPassword, secondFactor, onEvent } = core;
  const credentials = createCredentials(dependencies, core);
  return {
    users,
    revocations: core.revocations,
    sessions: core.sessions,
    mfa: new MfaService({
      database,
      lifecycle,
      currentPassword,
      secondFactor,
      mailer,
      audit,
      logger,
      clock,
      totpIssuer: dependencies.mfa.totpIssuer,
      onEvent,
    }),
    mfaLogin: core.mfaLogin,
    mfaChallenges: core.mfaChallenges,
    passkeys: credentials.passkeys,
    ...credentials.identities,
    ...createAccountServices(dependencies, { ...core, tentative: credentials.tentative }),
    admin: new AdminService({ database, laggingReads, lifecycle, audit, clock }),
    audit,
    eventDeliveries: new EventDeliveries(database, dependencies.outbox, clock),
  };
}

/** What every way to sign in shares: the accounts, the audit log, sessions, password checks, the second factor. */
function createSignInServices(dependencies: ServicesDependencies) {
  const { database, store, hasher, accessTokens, encryptionKeys, clock, logger, laggingReads } = dependencies;
  const { lifetimes, maxPerAccount: maxSessionsPerAccount } = dependencies.sessions;
  const onEvent = dependencies.onEvent ?? (() => {});
  const users = new UsersService(database, laggingReads);
  // Every recorded security event that other services should hear of is emitted with it.
  const audit = new SecurityEvents(database, clock, laggingReads, dependencies.outbox.follow);
  const lifecycle = new SessionLifecycle({
    database,
    revocationStore: store,
    accessTokens,
    clock,
    lifetimes,
    audit,
    maxSessionsPerAccount,
    onEvent,
  });
  const revocations = new RevocationSet({
    database,
    store,
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
  const loginLimits = dependencies.passwordAttempts;
  const passwordAttempts = new PasswordAttemptLimiter(store, loginLimits, () => onEvent("login_rate_limited"));
  const passwordCheck = new PasswordCheck({ database, hasher, passwordAttempts, logger });
  const currentPassword = new CurrentPassword(database, passwordCheck);
  const secondFactor = new SecondFactor({ encryptionKeys, counters: store });
  const mfaChallenges = new MfaChallenges(database, clock);
  const sessions = new SessionsService({
    database,
    users,
    lifecycle,
    rotation,
    revocations,
    accessTokens,
    passwordCheck,
    passwordAttempts,
    secondFactor: mfaChallenges,
    requireEmailVerification: dependencies.accounts.requireEmailVerification,
    maxSessionsPerAccount,
    audit,
    clock,
    onEvent,
  });
  const mfaLogin = new MfaLogin({ database, users, secondFactor, audit, clock, sessions, onEvent });
  const shared = { users, audit, lifecycle, revocations, sessions, mfaLogin, mfaChallenges };
  return { ...shared, passwordAttempts, currentPassword, secondFactor, onEvent };
}

type SignInServices = ReturnType<typeof createSignInServices>;

/** What a proof of the account's address settles for the ways to sign in added before anyone gave one. */
interface TentativeSignInMethods {
  /** The owner, signed in, proved the address: what was added before is theirs. */
  confirm(tx: Transaction, userId: string): Promise<void>;
  /** Whoever holds the mailbox proved it (a reset): what was added before goes. */
  drop(tx: Transaction, userId: string, client: ClientInfo): Promise<void>;
}

/**
 * The ways to sign in besides the password (passkeys, identity providers), and what a proof of the
 * account's address settles for those added before anyone gave one (`tentative`).
 */
function createCredentials(dependencies: ServicesDependencies, core: SignInServices) {
  const { database, store, encryptionKeys, mailer, outbox, logger, clock } = dependencies;
  const { users, audit, lifecycle, sessions, mfaLogin, currentPassword, passwordAttempts, onEvent } = core;
  const passkeys = createPasskeys({
    ...{ database, challengeStore: store, settings: dependencies.passkeys, encryptionKeys },
    ...{ users, audit, mailer, logger, clock },
    reauthentication: new Reauthentication({
      database,
      currentPassword,
      clock,
      windowSeconds: dependencies.sessions.reauthenticationWindowSeconds,
    }),
    // A passkey sign-in goes on as every login does, and may complete one awaiting a second factor.
    signIn: sessions,
    mfaLogin,
    starts: passwordAttempts,
  });
  const identities = createIdentityServices({
    ...{ settings: dependencies.identityProviders, database, flowStore: store, users, lifecycle },
    // A sign-in with a provider goes on as every login does; a first one counts as a registration.
    login: sessions,
    limits: passwordAttempts,
    ...{ audit, mailer, outbox, logger, clock, onEvent },
  });
  const tentative: TentativeSignInMethods = {
    confirm: async (tx, userId) => {
      await confirmTentativePassword(tx, userId);
      await identities.identityLinks.confirmTentative(tx, userId);
      await passkeys.management.confirmTentative(tx, userId);
    },
    drop: async (tx, userId, client) => {
      await identities.identityLinks.dropTentative(tx, userId, client);
      await passkeys.management.dropTentative(tx, userId, client);
    },
  };
  return { passkeys, identities, tentative };
}

/** The mailed-link services: verification, password reset, profile changes and the account itself. */
function createAccountServices(
  dependencies: ServicesDependencies,
  shared: Pick<SignInServices, "lifecycle" | "currentPassword" | "passwordAttempts" | "audit" | "onEvent"> & {
    tentative: TentativeSignInMethods;
  },
) {
  const { database, store, hasher, mailer, outbox, clock, logger } = dependencies;
  const { lifecycle, currentPassword, passwordAttempts, audit, onEvent, tentative } = shared;
  const settings = dependencies.accounts;
  const mailRequests = new MailRequestLimiter(store, settings.mailRequestsPerHour);
  const singleUseTokens = new SingleUseTokens(clock, {
    verify_email: settings.emailVerificationTtlSeconds,
    change_email: settings.emailVerificationTtlSeconds,
    reset_password: settings.passwordResetTtlSeconds,
  });
  const links = new AccountLinks(database, singleUseTokens, mailer);
  const tokens = singleUseTokens;
  return {
    singleUseTokens,
    accounts: new AccountsService({
      database,
      lifecycle,
      links,
      hasher,
      currentPassword,
      passwordAttempts,
      audit,
      outbox,
      clock,
      onEvent,
    }),
    verification: new VerificationService({
      ...{ database, links, tokens, mailRequests, audit, clock },
      onOwnerVerified: tentative.confirm,
    }),
    passwordReset: new PasswordResetService({
      ...{ database, links, tokens, lifecycle, hasher, mailRequests, mailer, audit, clock, logger },
      onMailboxProven: tentative.drop,
    }),
    profile: new ProfileService({ database, links, tokens, lifecycle, currentPassword, mailRequests, audit, outbox }),
  };
}
