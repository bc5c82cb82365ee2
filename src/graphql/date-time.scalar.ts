import { GraphQLScalarType, Kind } from "graphql";

function toDate(value: unknown): Date {
  const date = value instanceof Date ? value : typeof value === "string" ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new TypeError("DateTime must be an ISO-8601 date-time");
  return date;
}

/** An instant as an ISO-8601 string in UTC, e.g. "2026-11-25T10:15:00.000Z". */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  description: 'An instant as an ISO-8601 string in UTC, e.g. "2026-11-25T10:15:00.000Z".',
  specifiedByURL: "https://scalars.graphql.org/andimarek/date-time",
  serialize: (value) => toDate(value).toISOString(),
  parseValue: (value) => toDate(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new TypeError("DateTime must be a string");
    return toDate(ast.value);
  },
});
