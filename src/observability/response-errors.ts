import type { GraphQLResponse } from "@apollo/server";
import type { GraphQLFormattedError } from "graphql";

/** The errors a GraphQL response carries (of its first part, for an incremental one). */
export function responseErrors(response: GraphQLResponse): readonly GraphQLFormattedError[] | undefined {
  return response.body.kind === "single" ? response.body.singleResult.errors : response.body.initialResult.errors;
}
