import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { GraphQLArmorRejectCallback } from "@escape.tech/graphql-armor-types";
import { GraphQLError, Kind, type SelectionSetNode, type ValidationContext, type ValidationRule } from "graphql";
import type { OperationLimits } from "../config/config.js";
import type { OperationLimitCode } from "../errors/codes.js";
import { OperationLimitError } from "../errors/errors.js";

/** Root fields that hash or verify a password: each costs a deliberately slow argon2id run. */
const passwordOperationFields = new Set([
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

/** graphql-js's message when the parser stops at `maxTokens`; the formatter gives it its own code. */
export const tokenLimitMessage = /^Syntax Error: Document contains more tha[nt] \d+ tokens\. Parsing aborted\.$/;

/** graphql-armor reports a limit with its own message; we report it with our code. */
function rejectWith(code: OperationLimitCode): GraphQLArmorRejectCallback[] {
  return [(context, error) => context?.reportError(new OperationLimitError(code, error.message.replace(/^Syntax Error: /, "")))];
}

/** Password fields of one operation, fragments included (each spread counts as often as it is spread). */
function countPasswordOperations(context: ValidationContext, selectionSet: SelectionSetNode, seen: Set<string>): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (passwordOperationFields.has(selection.name.value)) count++;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countPasswordOperations(context, selection.selectionSet, seen);
    } else if (!seen.has(selection.name.value)) {
      // A fragment cycle is its own validation error; here it must merely not recurse forever.
      const fragment = context.getFragment(selection.name.value);
      if (fragment) count += countPasswordOperations(context, fragment.selectionSet, new Set([...seen, selection.name.value]));
    }
  }
  return count;
}

function passwordOperationsRule(limit: number): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const count = countPasswordOperations(context, operation.selectionSet, new Set());
      if (count > limit) {
        context.reportError(
          new OperationLimitError(
            "PASSWORD_OPERATION_LIMIT_EXCEEDED",
            `At most ${limit} of ${[...passwordOperationFields].join(", ")} per operation; found ${count}.`,
          ),
        );
      }
    },
  });
}

/**
 * An operation of a type the schema does not have (`subscription` here) passes graphql-js 16's
 * validation and fails only in execution, as an uncoded error: refuse it here instead.
 */
const knownOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(operation) {
    if (!context.getSchema().getRootType(operation.operation)) {
      context.reportError(new GraphQLError(`This subgraph has no ${operation.operation} operations.`, { nodes: [operation] }));
    }
  },
});

/**
 * Apollo Server options that bound an operation before it runs. Tokens are counted by graphql-js's
 * own parser (`maxTokens`), which stops reading there; graphql-armor's token plugin would parse
 * the whole document first and, in Apollo Server 5, turn a rejection into a 500.
 */
export function operationLimits(limits: OperationLimits) {
  const armor = new ApolloArmor({
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: false },
    maxDepth: { n: limits.depth, flattenFragments: true, propagateOnRejection: false, onReject: rejectWith("DEPTH_LIMIT_EXCEEDED") },
    maxAliases: { n: limits.aliases, propagateOnRejection: false, onReject: rejectWith("ALIAS_LIMIT_EXCEEDED") },
    maxDirectives: { n: limits.directives, propagateOnRejection: false, onReject: rejectWith("DIRECTIVE_LIMIT_EXCEEDED") },
    costLimit: { maxCost: limits.cost, propagateOnRejection: false, onReject: rejectWith("COST_LIMIT_EXCEEDED") },
  }).protect();
  return {
    parseOptions: { maxTokens: limits.tokens },
    validationRules: [knownOperationTypesRule, passwordOperationsRule(limits.passwordOperations), ...armor.validationRules],
  };
}
