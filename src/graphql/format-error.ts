import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { errorCodes } from "../errors/codes.js";
import { isDatabaseUnavailable } from "../errors/database-unavailable.js";
import { coercionPath, withoutEchoedValues } from "../errors/echoed-values.js";
import { AppError, ServiceUnavailableError } from "../errors/errors.js";
import { createLogThrottle } from "../observability/log-throttle.js";
import type { Logger } from "../observability/logger.js";
import { tokenLimitMessage } from "./operation-limits.js";

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

// graphql-js stops coercing variables at its 50th error with an uncoded error of its own.
const variableErrorLimitMessage = /^Too many errors processing variables, error limit reached\. Execution aborted\.$/;

// Codes whose graphql-js messages may quote the client's input.
const echoingCodes = new Set(["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"]);

function coercionErrorField(message: string): string | undefined {
  const path = coercionPath(message);
  if (path)
    return path
      .replace(/\[\d+\]/g, "")
      .split(".")
      .pop();
  return /Field "(\w+)" of required type/.exec(message)?.[1] ?? /Field "(\w+)" is not defined/.exec(message)?.[1];
}

/** Our own coded error, also when Apollo wrapped it (a validation rule's report, say). */
function appErrorIn(error: unknown): AppError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (current instanceof AppError) return current;
    current = current instanceof GraphQLError ? current.originalError : undefined;
  }
  return undefined;
}

/** Apollo's own refusals that carry a 4xx status but no code (persisted-query version or hash mismatch). */
function isUncodedClientError(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.extensions.code !== undefined) return false;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === "number" && status >= 400 && status < 500;
}

/**
 * What a client may see of an error: our coded errors as they are, Apollo's request errors as they
 * are, an unreachable dependency as SERVICE_UNAVAILABLE, anything else as an opaque
 * INTERNAL_SERVER_ERROR (logged here with its stack). Never a stack trace.
 */
export function createErrorFormatter(logger: Logger, onCode: (code: string) => void, dependencyLogIntervalMs = 10_000) {
  const throttle = createLogThrottle(dependencyLogIntervalMs);
  const logDependencyError = (dependency: string, cause: unknown) =>
    throttle(`${dependency}:${(cause as Error | undefined)?.message}`, (repeated) =>
      repeated === 0
        ? logger.error({ dependency, err: cause }, "dependency unavailable")
        : logger.error(
            { dependency, repeated, intervalMs: dependencyLogIntervalMs },
            "dependency unavailable, repeatedly",
          ),
    );
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    const appError = appErrorIn(original);
    let result: GraphQLFormattedError;
    if (appError) {
      if (appError instanceof ServiceUnavailableError) logDependencyError(appError.dependency, appError.cause);
      const { http: _http, ...own } = appError.extensions;
      result = { ...formatted, message: appError.message, extensions: { ...extensions, ...own } };
    } else if (isDatabaseUnavailable(original)) {
      logDependencyError("postgres", original);
      result = { ...formatted, message: errorCodes.SERVICE_UNAVAILABLE, extensions: { code: "SERVICE_UNAVAILABLE" } };
    } else if (extensions.code === "GRAPHQL_PARSE_FAILED" && tokenLimitMessage.test(formatted.message)) {
      result = { ...formatted, message: errorCodes.TOKEN_LIMIT_EXCEEDED, extensions: { code: "TOKEN_LIMIT_EXCEEDED" } };
    } else if (formatted.path === undefined && variableErrorLimitMessage.test(formatted.message)) {
      result = { ...formatted, extensions: { code: "BAD_USER_INPUT" } };
    } else if (typeof extensions.code === "string" && requestErrorCodes.has(extensions.code)) {
      const message = echoingCodes.has(extensions.code) ? withoutEchoedValues(formatted.message) : formatted.message;
      const field = extensions.code === "BAD_USER_INPUT" ? coercionErrorField(formatted.message) : undefined;
      result = {
        ...formatted,
        message,
        extensions: field && extensions.field === undefined ? { ...extensions, field } : extensions,
      };
    } else if (isUncodedClientError(original)) {
      result = { ...formatted, extensions: { code: "BAD_REQUEST" } };
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
