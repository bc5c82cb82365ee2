import type { SecurityEvents } from "../audit/security-events.js";
import type { Clock } from "../clock.js";
import type { Database } from "../db/prisma.js";
import type { Outbox } from "../events/outbox.js";
import type { Mailer } from "../mail/mailer.js";
import type { EventCounter } from "../observability/events.js";
import type { Logger } from "../observability/logger.js";
import type { PasswordAttemptLimiter } from "../rate-limit/password-attempts.js";
import type { SessionLifecycle } from "../sessions/session-lifecycle.js";
import type { SingleUseStore } from "../store/single-use-store.js";
import type { UsersService } from "../users/users.service.js";
import { IdentityLinks } from "./identity-links.service.js";
import { IdentityStore } from "./identity-store.js";
import { NewAccounts } from "./new-accounts.js";
import { ProviderRegistry } from "./provider-registry.js";
import type { IdentityProviderSettings } from "./settings.js";
import { SignInFlows } from "./sign-in-flows.js";
import { SocialSignIn, type FirstFactorLogin } from "./social-sign-in.service.js";

export interface IdentityServices {
  identityProviders: ProviderRegistry;
  socialSignIn: SocialSignIn;
  identityLinks: IdentityLinks;
}

/** What the feature takes from the rest of the subgraph. */
export interface IdentityServicesDependencies {
  settings: IdentityProviderSettings;
  database: Database;
  /** Where sign-ins under way are kept (shared by every instance). */
  flowStore: SingleUseStore;
  users: Pick<UsersService, "findForLogin" | "findForLoginById">;
  lifecycle: Pick<SessionLifecycle, "prepare" | "insertWithin" | "tokensFor" | "changeCredentials">;
  login: FirstFactorLogin;
  /** Counts the sign-ins each client address starts, and the accounts first sign-ins make, within their allowances. */
  limits: Pick<PasswordAttemptLimiter, "registration" | "signInStart">;
  audit: SecurityEvents;
  mailer: Mailer;
  /** Where a new account's user events are written, in its transaction. */
  outbox: Pick<Outbox, "emit">;
  logger: Logger;
  clock: Clock;
  onEvent: EventCounter;
}

/** Sign-in with identity providers, wired over the subgraph's stores and sessions. */
export function createIdentityServices(dependencies: IdentityServicesDependencies): IdentityServices {
  const { settings, database, flowStore, users, login, limits, audit, logger, clock } = dependencies;
  const registry = new ProviderRegistry(settings, logger, clock);
  const identities = new IdentityStore(database, audit);
  const links = new IdentityLinks({ ...dependencies, identities, providerName: (id) => registry.nameOf(id) });
  const newAccounts = new NewAccounts({ ...dependencies, identities, registrations: limits });
  const socialSignIn = new SocialSignIn({
    ...{ database, registry, flows: new SignInFlows(flowStore), redirectUris: settings.redirectUris },
    ...{ users, identities, newAccounts, links, login, starts: limits, logger },
  });
  return { identityProviders: registry, socialSignIn, identityLinks: links };
}
