import type { ApolloServerPlugin } from "@apollo/server";
import type { GraphQLFormattedError } from "graphql";
import { errorCodes } from "../errors/codes.js";

/** Errors one response carries at most; the rest are counted in one more, ERRORS_TRUNCATED. */
export const maxErrorsPerResponse = 100;

/**
 * One request's allowance of per-entry errors (a representation, a forbidden field of each entity).
 * Past the cap such an error would only be counted, and making one costs a stack trace: the field
 * answers null instead, and the error is counted without being made.
 */
export class ErrorBudget {
  private made = 0;
  omitted = 0;

  /** Whether to make the error; if not, it is counted as left out. */
  allows(): boolean {
    if (this.made < maxErrorsPerResponse) {
      this.made++;
      return true;
    }
    this.omitted++;
    return false;
  }
}

function truncated(errors: readonly GraphQLFormattedError[], alreadyOmitted: number): GraphQLFormattedError[] {
  const omitted = alreadyOmitted + Math.max(0, errors.length - maxErrorsPerResponse);
  if (omitted === 0) return [...errors];
  return [
    ...errors.slice(0, maxErrorsPerResponse),
    { message: errorCodes.ERRORS_TRUNCATED, extensions: { code: "ERRORS_TRUNCATED", omitted } },
  ];
}

/**
 * One error per list entry would let a small request ask for a huge answer: past the cap, errors
 * are counted, not sent.
 */
export const capResponseErrors: ApolloServerPlugin<{ errorBudget: ErrorBudget }> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        const result = response.body.kind === "single" ? response.body.singleResult : response.body.initialResult;
        const omitted = contextValue.errorBudget.omitted;
        if (omitted > 0 || (result.errors?.length ?? 0) > maxErrorsPerResponse)
          result.errors = truncated(result.errors ?? [], omitted);
      },
    };
  },
};
