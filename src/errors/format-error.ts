import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";
import { Prisma } from "../generated/prisma/client.js";
import type { Logger } from "../observability/logger.js";
import { errorCodes } from "./codes.js";
import { AppError, ServiceUnavailableError } from "./errors.js";

// Codes Apollo Server itself assigns to requests that are wrong, not to bugs.
const requestErrorCodes = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);

const databaseUnreachableCodes = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
const networkErrorCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EPIPE"]);

/** Whether PostgreSQL could not be reached (as opposed to a query that is wrong). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError && databaseUnreachableCodes.has(error.code)) return true;
  if (error instanceof Prisma.PrismaClientRustPanicError) return false;
  for (let cause: unknown = error, depth = 0; cause && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && networkErrorCodes.has(code)) return true;
    const message = (cause as { message?: unknown }).message;
    if (typeof message === "string" && /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(message)) {
      return true;
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The input field a variable-coercion error is about, from graphql-js's messages:
 * `… at "input.email"; …` or `Field "password" of required type "String!" was not provided.`
 */
function coercionErrorField(message: string): string | undefined {
  const at = /\bat "([^"]+)"/.exec(message);
  if (at) return at[1]!.split(".").pop();
  return /Field "([^"]+)" of required type/.exec(message)?.[1] ?? /Field "([^"]+)" is not defined/.exec(message)?.[1];
}

/**
 * What a client may see of an error: our coded errors as they are, Apollo's request errors as they
 * are, an unreachable dependency as SERVICE_UNAVAILABLE, anything else as an opaque
 * INTERNAL_SERVER_ERROR (logged here with its stack). Never a stack trace.
 */
export function createErrorFormatter(logger: Logger, onCode: (code: string) => void) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    let result: GraphQLFormattedError;
    if (original instanceof AppError) {
      if (original instanceof ServiceUnavailableError) {
        logger.error({ dependency: original.dependency, err: original.cause }, "dependency unavailable");
      }
      result = { ...formatted, extensions };
    } else if (isDatabaseUnavailable(original)) {
      logger.error({ dependency: "postgres", err: original }, "dependency unavailable");
      result = { ...formatted, message: errorCodes.SERVICE_UNAVAILABLE, extensions: { code: "SERVICE_UNAVAILABLE" } };
    } else if (typeof extensions.code === "string" && requestErrorCodes.has(extensions.code)) {
      const field = extensions.code === "BAD_USER_INPUT" ? coercionErrorField(formatted.message) : undefined;
      result = { ...formatted, extensions: field && extensions.field === undefined ? { ...extensions, field } : extensions };
    } else {
      logger.error({ err: original, path: formatted.path }, "unexpected error");
      result = {
        message: errorCodes.INTERNAL_SERVER_ERROR,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: "INTERNAL_SERVER_ERROR" },
      };
    }
    onCode(String(result.extensions?.code ?? "UNKNOWN"));
    return result;
  };
}
