import type { ApolloServerPlugin } from "@apollo/server";
import type { GraphQLFormattedError } from "graphql";
import { errorCodes } from "../errors/codes.js";

/** Errors one response carries at most; the rest are counted in one more, ERRORS_TRUNCATED. */
export const maxErrorsPerResponse = 100;

function truncated(errors: readonly GraphQLFormattedError[]): GraphQLFormattedError[] {
  const omitted = errors.length - maxErrorsPerResponse;
  return [...errors.slice(0, maxErrorsPerResponse), { message: errorCodes.ERRORS_TRUNCATED, extensions: { code: "ERRORS_TRUNCATED", omitted } }];
}

/**
 * One error per list entry (a representation, a forbidden field of each entity) would let a small
 * request ask for a huge answer: past the cap, errors are counted, not sent.
 */
export const capResponseErrors: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        const result = response.body.kind === "single" ? response.body.singleResult : response.body.initialResult;
        if (result.errors && result.errors.length > maxErrorsPerResponse) result.errors = truncated(result.errors);
      },
    };
  },
};
