import "reflect-metadata";
import type { IncomingMessage } from "node:http";
import { fileURLToPath } from "node:url";
import type { GraphQLSchema } from "graphql";
import type { NonEmptyArray } from "type-graphql";
import { AccountLifecycleResolver } from "./accounts/account-lifecycle.resolver.js";
import { AccountsResolver } from "./accounts/accounts.resolver.js";
import { AdminResolver } from "./admin/admin.resolver.js";
import { SecurityEventsResolver } from "./audit/security-events.resolver.js";
import { EventDeliveriesResolver } from "./events/event-deliveries.resolver.js";
import { createContext, type RequestContext } from "./graphql/context.js";
import { buildFederatedSchema, type ReferenceResolvers, type ResolverClass } from "./graphql/schema.js";
import { servedSdl } from "./graphql/sdl.js";
import type { TrustedProxies } from "./http/client-address.js";
import { IdentitiesResolver } from "./identities/identities.resolver.js";
import { MfaResolver } from "./mfa/mfa.resolver.js";
import { PasskeysResolver } from "./passkeys/passkeys.resolver.js";
import type { Services } from "./services.js";
import { SessionsResolver } from "./sessions/sessions.resolver.js";
import { createUserLoaders, type UserLoaders } from "./users/user.loader.js";
import { resolveUserReference } from "./users/user.reference.js";
import { UserResolver } from "./users/user.resolver.js";

/** What every resolver of the subgraph receives with a request. */
export type SubgraphContext = RequestContext<UserLoaders>;

/** The SDL the subgraph serves, checked in. */
export const subgraphSdlPath = fileURLToPath(new URL("../schema/users.graphql", import.meta.url));

/** Root fields that hash or verify a password: each costs a deliberately slow argon2id run. */
export const passwordOperationFields: ReadonlySet<string> = new Set([
  "register",
  "login",
  "changePassword",
  "resetPassword",
  "changeEmail",
  "deleteAccount",
  "enrollTotp",
  "disableTotp",
  "beginPasskeyRegistration",
]);

/** Every resolver of the subgraph, and how it is made from the services it calls. */
const resolvers = new Map<ResolverClass, (services: Services) => object>([
  [UserResolver, () => new UserResolver()],
  [AccountsResolver, (services) => new AccountsResolver(services.accounts)],
  [SessionsResolver, (services) => new SessionsResolver(services.sessions)],
  [MfaResolver, (services) => new MfaResolver(services.mfa, services.mfaLogin)],
  [
    AccountLifecycleResolver,
    (services) => new AccountLifecycleResolver(services.verification, services.passwordReset, services.profile),
  ],
  [AdminResolver, (services) => new AdminResolver(services.admin)],
  [SecurityEventsResolver, (services) => new SecurityEventsResolver(services.audit)],
  [EventDeliveriesResolver, (services) => new EventDeliveriesResolver(services.eventDeliveries)],
  [
    PasskeysResolver,
    (services) =>
      new PasskeysResolver(services.passkeys.registration, services.passkeys.signIn, services.passkeys.management),
  ],
  [
    IdentitiesResolver,
    (services) => new IdentitiesResolver(services.identityProviders, services.socialSignIn, services.identityLinks),
  ],
]);

const resolverTypes = [...resolvers.keys()] as NonEmptyArray<ResolverClass>;

/** Entities other subgraphs reference: a `User` representation goes through the request's batched loader. */
const references: ReferenceResolvers = { User: resolveUserReference };

/** The subgraph's schema, its resolvers made once with `services`. */
export function buildSubgraphSchema(services: Services): Promise<GraphQLSchema> {
  const instances = new Map([...resolvers].map(([type, make]) => [type, make(services)]));
  return buildFederatedSchema(resolverTypes, references, { get: (type) => instances.get(type) });
}

/** Each request's context: its client, its viewer (checked by the sessions service), its own loaders. */
export function subgraphContext(
  services: Services,
  proxies: TrustedProxies,
  sessionCookieMaxAgeSeconds: number,
): (request: IncomingMessage) => SubgraphContext {
  return (request) =>
    createContext(request, {
      proxies,
      sessionCookieMaxAgeSeconds,
      authenticate: (accessToken) => services.sessions.authenticate(accessToken),
      loaders: () => createUserLoaders(services.users),
    });
}

/** The SDL exactly as `_service { sdl }` serves it to composition: the schema without services, which answers nothing else. */
export async function subgraphSdl(): Promise<string> {
  const schema = await buildFederatedSchema(resolverTypes, references, {
    get: () => {
      throw new Error("this schema serves its SDL only: it was built without services");
    },
  });
  return servedSdl(schema);
}
