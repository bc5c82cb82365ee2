import type { Server } from "node:http";
import { ApolloServer } from "@apollo/server";
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginInlineTrace } from "@apollo/server/plugin/inlineTrace";
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from "@apollo/server/plugin/landingPage/default";
import type { GraphQLSchema } from "graphql";
import type { Logger } from "../observability/logger.js";
import { requestLogPlugin, type RequestRecord } from "../observability/request-log.js";
import { tracingPlugin } from "../observability/tracing.js";
import { checksBeforeExecution } from "./checks-before-execution.js";
import { capResponseErrors, type ErrorBudget } from "./error-cap.js";
import { createErrorFormatter } from "./format-error.js";
import { rejectNulCharacters } from "./nul-characters.js";
import { operationLimits, type OperationLimits } from "./operation-limits.js";

export interface GraphQLServerOptions {
  schema: GraphQLSchema;
  /** The HTTP server Apollo drains when it stops. */
  httpServer: Server;
  /** Plain introspection and the Sandbox landing page; `_service` (composition) is always served. */
  introspection: boolean;
  production: boolean;
  limits: OperationLimits;
  /** The root fields that hash or verify a password, which `limits.passwordOperations` bounds. */
  passwordOperationFields: ReadonlySet<string>;
  /** Identical dependency errors are logged once per this interval, with their count. */
  dependencyErrorLogIntervalMs: number;
  /** Called with the `extensions.code` of every error sent to a client. */
  onErrorCode(code: string): void;
  logger: Logger;
}

/** Apollo Server with the subgraph's limits, error formatting and plugins, started. */
export async function startGraphQLServer<TContext extends { requestLog: RequestRecord; errorBudget: ErrorBudget }>(
  options: GraphQLServerOptions,
): Promise<ApolloServer<TContext>> {
  const { introspection, production, logger } = options;
  const limits = operationLimits(options.limits, options.passwordOperationFields);
  const apollo = new ApolloServer<TContext>({
    schema: options.schema,
    introspection,
    // Without introspection, "Did you mean …?" would reveal the schema field by field.
    hideSchemaDetailsFromClientErrors: !introspection,
    parseOptions: limits.parseOptions,
    validationRules: limits.validationRules,
    includeStacktraceInErrorResponses: false,
    // The process orders its own shutdown (HTTP drain, stores, then the database).
    stopOnTerminationSignals: false,
    formatError: createErrorFormatter(logger, options.onErrorCode, options.dependencyErrorLogIntervalMs),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: options.httpServer }),
      checksBeforeExecution(...limits.checks, rejectNulCharacters),
      capResponseErrors,
      // The schema declares no cache hints, so this plugin's per-field bookkeeping only ever
      // concluded "no-store"; the GraphQL handler sends that header itself.
      ApolloServerPluginCacheControlDisabled(),
      requestLogPlugin(),
      tracingPlugin(),
      // Federated traces for routers that ask (`apollo-federation-include-trace: ftv1`), error
      // messages masked; installed here, Apollo does not log that it enables them.
      ApolloServerPluginInlineTrace({ includeErrors: { masked: true } }),
      !introspection
        ? ApolloServerPluginLandingPageDisabled()
        : production
          ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
          : ApolloServerPluginLandingPageLocalDefault({ footer: false, includeCookies: false }),
    ],
    logger,
  });
  await apollo.start();
  return apollo;
}
