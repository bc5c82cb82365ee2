import type { ApolloServerPlugin, BaseContext, GraphQLRequestContextDidResolveOperation } from "@apollo/server";

/** Throws (an error with an HTTP status) to refuse the request before anything runs. */
export type RequestCheck = (request: GraphQLRequestContextDidResolveOperation<BaseContext>) => void;

/**
 * The checks in order, once the operation is known: the first that throws refuses the request, and
 * the later ones do no work (a cheap count spares a walk over every variable of a request refused anyway).
 */
export function checksBeforeExecution(...checks: RequestCheck[]): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(request) {
          for (const check of checks) check(request);
        },
      };
    },
  };
}
