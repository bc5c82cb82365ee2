import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { GraphQLArmorRejectCallback } from "@escape.tech/graphql-armor-types";
import { GraphQLError, Kind, type NameNode, type SelectionSetNode, type ValidationRule } from "graphql";
import type { OperationLimitCode } from "../errors/codes.js";
import { OperationLimitError } from "../errors/errors.js";
import { entityLimit } from "./entity-limit.js";
import { pageSizeRule, pageSizesOutOfRange } from "./pagination.js";

/** What one operation may contain, checked before it runs. */
export interface OperationLimits {
  /** Lexical tokens of the document; parsing stops past it. */
  tokens: number;
  depth: number;
  aliases: number;
  directives: number;
  cost: number;
  /** Fields that hash or verify a password (register, login…) in one operation. */
  passwordOperations: number;
  /** `_entities` representations in one operation, all its `_entities` fields together. */
  entities: number;
}

/** graphql-js's message when the parser stops at `maxTokens`; the formatter gives it its own code. */
export const tokenLimitMessage = /^Syntax Error: Document contains more tha[nt] \d+ tokens\. Parsing aborted\.$/;

/** graphql-armor reports a limit with its own message; we report it with our code. */
function rejectWith(code: OperationLimitCode): GraphQLArmorRejectCallback[] {
  return [
    (context, error) =>
      context?.reportError(new OperationLimitError(code, error.message.replace(/^Syntax Error: /, ""))),
  ];
}

/**
 * graphql-armor multiplies a list's estimated cost by a literal `first`: a `first` past the page
 * maximum is refused on `first` (pageSizeRule), not as a cost that only its mistake inflated.
 */
const [rejectCost] = rejectWith("COST_LIMIT_EXCEEDED");
const costRejection: GraphQLArmorRejectCallback = (context, error) => {
  if (context && pageSizesOutOfRange(context.getDocument()).length > 0) return;
  rejectCost!(context, error);
};

/**
 * Counts the password fields of each operation, fragments included (a spread counts as often as it
 * is spread). Each fragment is counted once and remembered, so a fragment spread twice by one spread
 * twice… costs no more than its text; counts stop at `limit + 1`, which is enough to refuse.
 */
function passwordOperationsRule(limit: number, fields: ReadonlySet<string>): ValidationRule {
  return (context) => {
    const fragmentCounts = new Map<string, number>();
    const inFragments = new Set<string>();
    const countFragment = (name: string): number => {
      const known = fragmentCounts.get(name);
      if (known !== undefined) return known;
      const fragment = context.getFragment(name);
      // A fragment cycle is its own validation error; here it must merely end.
      if (!fragment || inFragments.has(name)) return 0;
      inFragments.add(name);
      const count = countSelections(fragment.selectionSet);
      inFragments.delete(name);
      fragmentCounts.set(name, count);
      return count;
    };
    const countSelections = (selectionSet: SelectionSetNode): number => {
      let count = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) count += fields.has(selection.name.value) ? 1 : 0;
        else if (selection.kind === Kind.INLINE_FRAGMENT) count += countSelections(selection.selectionSet);
        else count += countFragment(selection.name.value);
        if (count > limit) return limit + 1;
      }
      return count;
    };
    return {
      OperationDefinition(operation) {
        if (countSelections(operation.selectionSet) <= limit) return;
        const names = [...fields].join(", ");
        context.reportError(
          new OperationLimitError("PASSWORD_OPERATION_LIMIT_EXCEEDED", `At most ${limit} of ${names} per operation.`),
        );
      },
    };
  };
}

/**
 * An operation of a type the schema does not have (`subscription` here) passes graphql-js 16's
 * validation and fails only in execution, as an uncoded error: refuse it here instead.
 */
const knownOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(operation) {
    if (!context.getSchema().getRootType(operation.operation)) {
      context.reportError(
        new GraphQLError(`This subgraph has no ${operation.operation} operations.`, { nodes: [operation] }),
      );
    }
  },
});

/** Aliases and variable names come back in the answer, once per entry of a list or per error. */
export const maxNameLength = 64;

/** Refuses the document's first alias or variable name longer than `maxNameLength`. */
const shortNamesRule: ValidationRule = (context) => {
  let reported = false;
  const check = (name: NameNode | undefined) => {
    if (reported || !name || name.value.length <= maxNameLength) return;
    reported = true;
    context.reportError(
      new GraphQLError(`Aliases and variable names are at most ${maxNameLength} characters.`, { nodes: [name] }),
    );
  };
  return { Field: (field) => check(field.alias), VariableDefinition: (definition) => check(definition.variable.name) };
};

/**
 * Apollo Server options that bound an operation before it runs. Tokens are counted by graphql-js's
 * own parser (`maxTokens`), which stops reading there; graphql-armor's token plugin would parse
 * the whole document first and, in Apollo Server 5, turn a rejection into a 500. `passwordFields`
 * are the root fields that hash or verify a password: an operation holds `limits.passwordOperations` of them at most.
 */
export function operationLimits(limits: OperationLimits, passwordFields: ReadonlySet<string>) {
  const armor = new ApolloArmor({
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: false },
    maxDepth: {
      n: limits.depth,
      flattenFragments: true,
      propagateOnRejection: false,
      onReject: rejectWith("DEPTH_LIMIT_EXCEEDED"),
    },
    // An alias of `__typename` counts too: a thousand entities each answering hundreds of them would be megabytes.
    maxAliases: {
      n: limits.aliases,
      allowList: [],
      propagateOnRejection: false,
      onReject: rejectWith("ALIAS_LIMIT_EXCEEDED"),
    },
    maxDirectives: {
      n: limits.directives,
      propagateOnRejection: false,
      onReject: rejectWith("DIRECTIVE_LIMIT_EXCEEDED"),
    },
    costLimit: { maxCost: limits.cost, propagateOnRejection: false, onReject: [costRejection] },
  }).protect();
  return {
    parseOptions: { maxTokens: limits.tokens },
    validationRules: [
      knownOperationTypesRule,
      pageSizeRule,
      shortNamesRule,
      passwordOperationsRule(limits.passwordOperations, passwordFields),
      ...armor.validationRules,
    ],
    // The entity count depends on the variables, which validation (cached per document) does not see.
    checks: [entityLimit(limits.entities)],
  };
}
