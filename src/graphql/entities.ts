import { isObjectType, type GraphQLFieldResolver, type GraphQLSchema, type GraphQLUnionType } from "graphql";
import { BadUserInputError } from "../errors/errors.js";
import type { RequestContext } from "./context.js";

/**
 * `_entities` representations are client input. Apollo's resolver throws an uncoded error for the
 * whole list when one names no entity type (or is not an object at all). Each such representation
 * gets its own BAD_USER_INPUT instead, in its place in the list; the others resolve as usual.
 */
export function guardEntityRepresentations(schema: GraphQLSchema): GraphQLSchema {
  const entities = schema.getQueryType()?.getFields()._entities;
  const entityUnion = schema.getType("_Entity") as GraphQLUnionType | undefined;
  if (!entities?.resolve || !entityUnion) return schema;
  const entityTypes = new Set(
    entityUnion
      .getTypes()
      .filter(isObjectType)
      .map((type) => type.name),
  );
  const isResolvable = (representation: unknown) =>
    representation !== null &&
    typeof representation === "object" &&
    !Array.isArray(representation) &&
    entityTypes.has((representation as { __typename?: unknown }).__typename as string);

  const resolveEntities: GraphQLFieldResolver<unknown, unknown> = entities.resolve;
  entities.resolve = (source, args: { representations: unknown[] }, context: RequestContext, info) => {
    const resolvable = args.representations.filter(isResolvable);
    const resolved = resolveEntities(source, { ...args, representations: resolvable }, context, info) as unknown[];
    let next = 0;
    return args.representations.map((representation, index) => {
      if (isResolvable(representation)) return resolved[next++];
      // Past the response's error cap, null in its place; the error is only counted.
      if (!context.errorBudget.allows()) return null;
      return new BadUserInputError(
        "representations",
        `Representation ${index} does not name an entity type of this subgraph.`,
      );
    });
  };
  return schema;
}
