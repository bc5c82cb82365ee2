import {
  Kind,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";
import { OperationLimitError, refusedBeforeExecution } from "../errors/errors.js";
import type { RequestCheck } from "./checks-before-execution.js";

/** The representations one `representations:` argument holds: a list's length, one for a single value. */
function representationCount(
  value: ValueNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): number {
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.NULL) return 0;
  if (value.kind !== Kind.VARIABLE) return 1;
  const name = value.name.value;
  if (Object.hasOwn(variables, name)) {
    const given = variables[name];
    return Array.isArray(given) ? given.length : given === null || given === undefined ? 0 : 1;
  }
  const fallback = operation.variableDefinitions?.find(
    (definition) => definition.variable.name.value === name,
  )?.defaultValue;
  return fallback ? representationCount(fallback, operation, {}) : 0;
}

/**
 * The representations the operation's `_entities` fields ask for, in all. `_entities` is a root
 * field: only the root selection set and the fragments in it are read, each fragment once (a
 * fragment spread twice runs once), so the walk is as long as the document at most.
 */
function countEntities(
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): number {
  const read = new Set<string>();
  const count = (selectionSet: SelectionSetNode): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        total += count(selection.selectionSet);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments[selection.name.value];
        if (!fragment || read.has(fragment.name.value)) continue;
        read.add(fragment.name.value);
        total += count(fragment.selectionSet);
      } else if (selection.name.value === "_entities") {
        const argument = selection.arguments?.find((candidate) => candidate.name.value === "representations");
        if (argument) total += representationCount(argument.value, operation, variables);
      }
    }
    return total;
  };
  return count(operation.selectionSet);
}

/**
 * Refuses an operation whose `_entities` lists hold more than `limit` representations in all,
 * before they are coerced or resolved: each would cost a lookup and possibly an error in the answer.
 */
export function entityLimit(limit: number): RequestCheck {
  return ({ operation, document, request }) => {
    if (!operation) return;
    const fragments = Object.fromEntries(
      document.definitions
        .filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)
        .map((definition) => [definition.name.value, definition]),
    );
    const count = countEntities(operation, fragments, request.variables ?? {});
    if (count <= limit) return;
    throw refusedBeforeExecution(
      new OperationLimitError(
        "ENTITY_LIMIT_EXCEEDED",
        `At most ${limit} entity representations per operation; found ${count}.`,
      ),
    );
  };
}
