import type { AccessTokens } from "./auth/access-tokens.js";
import type { PasswordHasher } from "./auth/password-hasher.js";
import type { RevocationStore } from "./auth/revocation/revocation-store.js";
import { AccountsService } from "./accounts/accounts.service.js";
import type { Clock } from "./clock.js";
import type { Database } from "./db/prisma.js";
import { PasswordAttemptLimiter, type PasswordAttemptLimits } from "./rate-limit/password-attempts.js";
import { SessionLifecycle, type AuthEvent, type TokenLifetimes } from "./sessions/session-lifecycle.js";
import { RefreshRotation } from "./sessions/refresh-rotation.js";
import { SessionsService } from "./sessions/sessions.service.js";
import { UsersService } from "./users/users.service.js";

export interface Services {
  users: UsersService;
  accounts: AccountsService;
  sessions: SessionsService;
}

export interface ServicesDependencies {
  database: Database;
  revocationStore: RevocationStore;
  hasher: PasswordHasher;
  accessTokens: AccessTokens;
  clock: Clock;
  lifetimes: TokenLifetimes;
  loginLimits: PasswordAttemptLimits;
  onEvent?: (event: AuthEvent) => void;
}

/** Every service of the subgraph, wired once per server over the same stores. */
export function createServices(dependencies: ServicesDependencies): Services {
  const { database, revocationStore, hasher, accessTokens, clock, lifetimes, loginLimits } = dependencies;
  const onEvent = dependencies.onEvent ?? (() => {});
  const users = new UsersService(database);
  const lifecycle = new SessionLifecycle({ database, revocationStore, accessTokens, clock, lifetimes, onEvent });
  const rotation = new RefreshRotation({
    database,
    accessTokens,
    clock,
    refreshTokenTtlSeconds: lifetimes.refreshTokenTtlSeconds,
    reuseIntervalSeconds: lifetimes.refreshReuseIntervalSeconds,
  });
  const passwordAttempts = new PasswordAttemptLimiter(revocationStore, loginLimits, () => onEvent("login_rate_limited"));
  return {
    users,
    accounts: new AccountsService({ database, lifecycle, hasher, passwordAttempts, clock, onEvent }),
    sessions: new SessionsService({
      database,
      users,
      lifecycle,
      rotation,
      revocationStore,
      hasher,
      accessTokens,
      passwordAttempts,
      clock,
      onEvent,
    }),
  };
}
