import "reflect-metadata";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { parse, type GraphQLSchema } from "graphql";
import { buildSchema, createResolversMap } from "type-graphql";
import { AccountLifecycleResolver } from "../accounts/account-lifecycle.resolver.js";
import { AccountsResolver } from "../accounts/accounts.resolver.js";
import { AdminResolver } from "../admin/admin.resolver.js";
import { SecurityEventsResolver } from "../audit/security-events.resolver.js";
import { EventDeliveriesResolver } from "../events/event-deliveries.resolver.js";
import { MfaResolver } from "../mfa/mfa.resolver.js";
import { SessionsResolver } from "../sessions/sessions.resolver.js";
import { resolveUserReference } from "../users/user.reference.js";
import { UserResolver } from "../users/user.resolver.js";
import { guardEntityRepresentations } from "./entities.js";

/** Federation 2 directives the schema uses; `schema/users.graphql` imports exactly these. */
const federationLink = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';

let built: Promise<GraphQLSchema> | undefined;

/** The TypeGraphQL classes as a federated subgraph schema. Resolvers are stateless: built once. */
export function buildUsersSubgraphSchema(): Promise<GraphQLSchema> {
  built ??= (async () => {
    const schema = await buildSchema({
      resolvers: [
        UserResolver,
        AccountsResolver,
        SessionsResolver,
        MfaResolver,
        AccountLifecycleResolver,
        AdminResolver,
        SecurityEventsResolver,
        EventDeliveriesResolver,
      ],
      validate: false,
      emitSchemaFile: false,
    });
    const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
    resolvers.User = { ...resolvers.User, __resolveReference: resolveUserReference };
    return guardEntityRepresentations(
      buildSubgraphSchema({
        typeDefs: parse(`${federationLink}\n\n${printSchemaWithDirectives(schema)}`),
        resolvers: resolvers as never,
      }),
    );
  })();
  return built;
}
