import { Kind, visit, type ArgumentNode, type DocumentNode, type ValidationRule } from "graphql";
import { BadUserInputError } from "../errors/errors.js";

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
}

export const pageSize = { default: 50, max: 100 } as const;

const isPageSize = (first: number) => Number.isInteger(first) && first >= 1 && first <= pageSize.max;
const pageSizeRefusal = () => new BadUserInputError("first", `first must be between 1 and ${pageSize.max}.`);

/** How many rows a page asks for: `first` within 1–100 (null: the default), else BAD_USER_INPUT on `first`. */
export function pageLimit(first: number | null | undefined): number {
  if (first == null) return pageSize.default;
  if (!isPageSize(first)) throw pageSizeRefusal();
  return first;
}

/** The `first` arguments of fields written into the document (not variables) outside 1–100, fragments included. */
export function pageSizesOutOfRange(document: DocumentNode): ArgumentNode[] {
  const found: ArgumentNode[] = [];
  visit(document, {
    Field(field) {
      const first = field.arguments?.find((argument) => argument.name.value === "first");
      if (first?.value.kind === Kind.INT && !isPageSize(Number(first.value.value))) found.push(first);
    },
  });
  return found;
}

/**
 * A `first` written out of range into the document is refused before anything runs, on `first` as
 * the resolver would refuse it in a variable. Otherwise the cost limit, whose estimate multiplies a
 * list's cost by a literal `first`, would refuse it first with a code that hides the real mistake.
 */
export const pageSizeRule: ValidationRule = (context) => ({
  Document(document) {
    if (pageSizesOutOfRange(document).length > 0) context.reportError(pageSizeRefusal());
  },
});

/**
 * Cursors are opaque to clients: the position's value, tagged with what it is a position in so a
 * cursor of one list is refused by another.
 */
export function encodeCursor(tag: string, value: string): string {
  return Buffer.from(`${tag}:${value}`, "utf8").toString("base64url");
}

/**
 * The value of a cursor made by `encodeCursor(tag, …)`; BAD_USER_INPUT on `after` for anything else.
 * Only the exact encoding of a valid value passes: no stray bits, no bytes that are not UTF-8.
 */
export function decodeCursor(tag: string, cursor: string, valid: (value: string) => boolean): string {
  const text = /^[A-Za-z0-9_-]{1,400}$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  const value = text.startsWith(`${tag}:`) ? text.slice(tag.length + 1) : undefined;
  if (value === undefined || !valid(value) || encodeCursor(tag, value) !== cursor) {
    throw new BadUserInputError("after", "This cursor is not one this list gave out.");
  }
  return value;
}

const maxBigint = 2n ** 63n - 1n;

/** Whether `value` is a positive PostgreSQL bigint in plain decimals (an id of a bigserial column). */
export function isBigintId(value: string): boolean {
  return /^[1-9][0-9]{0,18}$/.test(value) && BigInt(value) <= maxBigint;
}

/** A page from `limit + 1` rows read in order: the extra row only says that there is a next page. */
export function toConnection<T>(rows: T[], limit: number, cursorOf: (row: T) => string): Connection<T> {
  const edges = rows.slice(0, limit).map((node) => ({ cursor: cursorOf(node), node }));
  return { edges, pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
}
