import "reflect-metadata";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { parse, type GraphQLSchema } from "graphql";
import { buildSchema, createResolversMap, type ContainerType, type NonEmptyArray } from "type-graphql";
import { guardEntityRepresentations } from "./entities.js";

/** Federation 2 directives the schema uses; `schema/users.graphql` imports exactly these. */
const federationLink = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';

/** A TypeGraphQL resolver class, whatever its constructor takes (the container makes its instances). */
export type ResolverClass = new (...args: never) => object;

/** `__resolveReference` of each entity type: what a representation from another subgraph resolves to. */
export type ReferenceResolvers = Record<
  string,
  (representation: { [field: string]: unknown }, context: never) => unknown
>;

/**
 * TypeGraphQL resolver classes as a federated subgraph schema, with the reference resolvers of its
 * entities. `container` hands out the resolvers' instances, made with their services.
 */
export async function buildFederatedSchema(
  resolvers: NonEmptyArray<ResolverClass>,
  references: ReferenceResolvers,
  container: ContainerType,
): Promise<GraphQLSchema> {
  const schema = await buildSchema({ resolvers, container, validate: false, emitSchemaFile: false });
  const resolverMap = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  for (const [type, resolveReference] of Object.entries(references)) {
    resolverMap[type] = { ...resolverMap[type], __resolveReference: resolveReference };
  }
  return guardEntityRepresentations(
    buildSubgraphSchema({
      typeDefs: parse(`${federationLink}\n\n${printSchemaWithDirectives(schema)}`),
      resolvers: resolverMap as never,
    }),
  );
}
