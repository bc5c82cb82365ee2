import { BREAK, Kind, visit, type ASTNode, type DocumentNode } from "graphql";
import { BadUserInputError, refusedBeforeExecution } from "../errors/errors.js";
import type { RequestCheck } from "./checks-before-execution.js";

const nul = "\u0000";

/** The input field of the first string holding a NUL character among the variables, if any. */
function fieldWithNulInVariables(variables: Record<string, unknown>): string | undefined {
  // Iterative: the nesting depth of a JSON body is the client's to choose.
  const pending = Object.entries(variables).map(([field, value]): [unknown, string] => [value, field]);
  while (pending.length > 0) {
    const [value, field] = pending.pop()!;
    if (typeof value === "string") {
      if (value.includes(nul)) return field;
    } else if (Array.isArray(value)) {
      for (const item of value) pending.push([item, field]);
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) pending.push([item, key]);
    }
  }
  return undefined;
}

function fieldWithNulInDocument(document: DocumentNode): string | undefined {
  let field: string | undefined;
  visit(document, {
    StringValue(node, _key, parent, _path, ancestors) {
      if (!node.value.includes(nul)) return undefined;
      const named = [...ancestors, parent]
        .reverse()
        .find(
          (ancestor): ancestor is ASTNode & { name: { value: string } } =>
            !Array.isArray(ancestor) &&
            ((ancestor as ASTNode).kind === Kind.OBJECT_FIELD || (ancestor as ASTNode).kind === Kind.ARGUMENT),
        );
      field = named?.name.value ?? "query";
      return BREAK;
    },
  });
  return field;
}

/**
 * Each document's finding, null for none. Apollo parses a query string once and hands every later
 * request with the same string the same document, so the walk is made once per document, not per
 * request; the variables differ from request to request and are read every time.
 */
const documentFindings = new WeakMap<DocumentNode, string | null>();

function fieldWithNulInDocumentOnce(document: DocumentNode): string | undefined {
  let finding = documentFindings.get(document);
  if (finding === undefined) {
    finding = fieldWithNulInDocument(document) ?? null;
    documentFindings.set(document, finding);
  }
  return finding ?? undefined;
}

/**
 * PostgreSQL cannot store a NUL character in text and fails the statement (22021); no name,
 * address, token or id contains one. Refused as bad input before anything runs.
 */
export const rejectNulCharacters: RequestCheck = ({ request, document }) => {
  const field = fieldWithNulInVariables(request.variables ?? {}) ?? fieldWithNulInDocumentOnce(document);
  // Refused before execution, like a variable of the wrong type.
  if (field !== undefined)
    throw refusedBeforeExecution(new BadUserInputError(field, "Text may not contain NUL characters."));
};
