import "reflect-metadata";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginInlineTrace } from "@apollo/server/plugin/inlineTrace";
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from "@apollo/server/plugin/landingPage/default";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { AccessTokens } from "./auth/access-tokens.js";
import type { PasswordHasher } from "./auth/password-hasher.js";
import type { RevocationStore } from "./auth/revocation/revocation-store.js";
import type { EncryptionKeys } from "./auth/encryption-keys.js";
import type { SigningKeys } from "./auth/signing-keys.js";
import { systemClock, type Clock } from "./clock.js";
import type { Config } from "./config/config.js";
import { migrationNames } from "./db/migrate.js";
import { onQuery, type Database } from "./db/prisma.js";
import { isDatabaseUnavailable } from "./errors/database-unavailable.js";
import { createErrorFormatter } from "./errors/format-error.js";
import { createContext, type Context } from "./graphql/context.js";
import { checksBeforeExecution } from "./graphql/checks-before-execution.js";
import { capResponseErrors } from "./graphql/error-cap.js";
import { rejectNulCharacters } from "./graphql/nul-characters.js";
import { operationLimits } from "./graphql/operation-limits.js";
import { buildUsersSubgraphSchema } from "./graphql/schema.js";
import { TrustedProxies } from "./http/client-address.js";
import { createGraphQLHandler } from "./http/graphql-handler.js";
import { createEventOutbox, type EventOutbox } from "./events/event-outbox.js";
import type { DeliveryTuning } from "./events/delivery-worker.js";
import type { MailTransport } from "./mail/mail-transport.js";
import { Mailer } from "./mail/mailer.js";
import { checkReadiness } from "./http/health.js";
import { createMetricsServer } from "./http/metrics-server.js";
import type { Logger } from "./observability/logger.js";
import { assertSecretsReadable } from "./mfa/reencryption.js";
import { Metrics } from "./observability/metrics.js";
import type { PasswordAttemptLimits } from "./rate-limit/password-attempts.js";
import { logRequest, requestLogPlugin } from "./observability/request-log.js";
import { traceRequest, tracingPlugin } from "./observability/tracing.js";
import { createServices, type Services } from "./services.js";

export interface AppDependencies {
  config: Config;
  database: Database;
  revocationStore: RevocationStore;
  signingKeys: SigningKeys;
  encryptionKeys: EncryptionKeys;
  hasher: PasswordHasher;
  mailTransport: MailTransport;
  logger: Logger;
  clock?: Clock;
  /** Overrides of the login rate limits (tests raise them). */
  loginLimits?: Partial<PasswordAttemptLimits>;
  /** Overrides of how the outbox is delivered (tests shorten the delays). */
  deliveryTuning?: Partial<DeliveryTuning>;
}

export interface App {
  httpServer: Server;
  services: Services;
  metrics: Metrics;
  /** User events and mail, written by actions and delivered by this server's worker. */
  outbox: EventOutbox;
  /** Also starts the metrics server when `METRICS_PORT` is set, on the same host, and the outbox's delivery. */
  listen(port?: number, host?: string): Promise<{ port: number; url: string; metricsPort?: number }>;
  /**
   * The first step of a graceful stop: readiness answers 503 so that load balancers send no more
   * traffic, and every response closes its connection; everything is still served meanwhile.
   */
  startDraining(): void;
  /** Stops accepting, closes idle connections, finishes every request already accepted. */
  close(): Promise<void>;
}

/** Every route the server answers; docs/api.md documents each. */
export const routes = new Set(["/graphql", "/health/live", "/health/ready", "/metrics", "/.well-known/jwks.json"]);

/** Listens; the port bound (`0` picks a free one). */
function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  response.end(JSON.stringify(body));
}

/** The subgraph and its operational routes on one HTTP server; stores are passed in, not opened here. */
export async function createApp(dependencies: AppDependencies): Promise<App> {
  const { config, database, revocationStore, signingKeys, encryptionKeys, hasher, logger } = dependencies;
  const clock = dependencies.clock ?? systemClock;
  const metrics = new Metrics();
  onQuery(database, () => metrics.databaseQueries.inc());
  const accessTokens = new AccessTokens(
    signingKeys,
    { issuer: config.jwt.issuer, audience: config.jwt.audience, ttlSeconds: config.jwt.accessTokenTtlSeconds },
    clock,
  );
  const outbox = createEventOutbox({
    config,
    database,
    mailTransport: dependencies.mailTransport,
    encryptionKeys,
    clock,
    logger,
    registry: metrics.registry,
    tuning: dependencies.deliveryTuning,
  });
  const services = createServices({
    database,
    revocationStore,
    hasher,
    accessTokens,
    encryptionKeys,
    outbox: outbox.outbox,
    mailer: new Mailer(outbox.mailQueue, { from: config.mail.from, appUrl: config.mail.appUrl }),
    clock,
    lifetimes: {
      accessTokenTtlSeconds: config.jwt.accessTokenTtlSeconds,
      refreshTokenTtlSeconds: config.jwt.refreshTokenTtlSeconds,
      refreshReuseIntervalSeconds: config.jwt.refreshReuseIntervalSeconds,
    },
    maxSessionsPerAccount: config.maxSessionsPerAccount,
    loginLimits: { ...config.passwordAttempts, ...dependencies.loginLimits },
    totpIssuer: config.totpIssuer,
    accountLinks: config.accountLinks,
    logger,
    onEvent: metrics.recordAuthEvent,
  });
  await Promise.all([
    // Verifying the dummy hash the first time costs a hash: pay it now, not on a first login.
    hasher.dummyHash(),
    // Keys that cannot open every stored secret would lock accounts out: refuse them now. A database
    // that cannot be reached yet does not stop the start (readiness reports it).
    assertSecretsReadable(database, encryptionKeys).catch((error: unknown) => {
      if (!isDatabaseUnavailable(error)) throw error;
      logger.warn("could not check that ENCRYPTION_KEYS opens every stored secret: the database is unreachable");
    }),
    // The in-process store starts empty, and Redis may have lost data while no instance ran: load
    // the revocation set now rather than on the first request. If that fails, the first request
    // that checks a token tries again (and fails closed meanwhile).
    services.revocations.rebuild().catch((error: unknown) => logger.warn({ err: error }, "could not load the revocation set yet")),
  ]);

  const migrations = await migrationNames();
  const httpServer = createServer();
  const production = config.env === "production";
  const limits = operationLimits(config.limits);
  const apollo = new ApolloServer<Context>({
    schema: await buildUsersSubgraphSchema(),
    introspection: config.introspection,
    // Without introspection, "Did you mean …?" would reveal the schema field by field.
    hideSchemaDetailsFromClientErrors: !config.introspection,
    parseOptions: limits.parseOptions,
    validationRules: limits.validationRules,
    includeStacktraceInErrorResponses: false,
    // The process orders its own shutdown (HTTP drain, stores, then the database).
    stopOnTerminationSignals: false,
    formatError: createErrorFormatter(logger, (code) => metrics.graphqlErrors.inc({ code }), config.dependencyErrorLogIntervalMs),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
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
      !config.introspection
        ? ApolloServerPluginLandingPageDisabled()
        : production
          ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
          : ApolloServerPluginLandingPageLocalDefault({ footer: false, includeCookies: false }),
    ],
    logger,
  });
  await apollo.start();
  const proxies = new TrustedProxies(config.trustProxy);
  const handleGraphQL = createGraphQLHandler(apollo, (request) => createContext(services, request, proxies));

  let draining = false;
  const sendMetrics = async (response: ServerResponse) => {
    response.writeHead(200, { "content-type": metrics.registry.contentType });
    response.end(await metrics.registry.metrics());
  };
  // With METRICS_PORT, /metrics is served there only, apart from the API.
  const metricsServer = config.metricsPort === undefined ? undefined : createMetricsServer(sendMetrics, logger);

  const handle = async (request: IncomingMessage, response: ServerResponse, path: string, search: string) => {
    if (draining) response.setHeader("connection", "close");
    switch (path) {
      case "/graphql":
        return handleGraphQL(request, response, search);
      case "/health/live":
        return sendJson(response, 200, { status: "ok" });
      case "/health/ready": {
        if (draining) return sendJson(response, 503, { status: "draining" });
        const readiness = await checkReadiness(database, revocationStore, migrations);
        return sendJson(response, readiness.ready ? 200 : 503, readiness.body);
      }
      case "/metrics":
        return metricsServer ? sendJson(response, 404, { error: "not found" }) : sendMetrics(response);
      case "/.well-known/jwks.json":
        return sendJson(response, 200, signingKeys.jwks, { "cache-control": "public, max-age=300" });
      default:
        return sendJson(response, 404, { error: "not found" });
    }
  };

  httpServer.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const started = process.hrtime.bigint();
    const target = request.url ?? "/";
    const queryStart = target.indexOf("?");
    const path = queryStart === -1 ? target : target.slice(0, queryStart);
    const search = queryStart === -1 ? "" : target.slice(queryStart);
    const route = routes.has(path) ? path : "other";
    metrics.httpRequestsInFlight.inc();
    response.on("close", () => metrics.httpRequestsInFlight.dec());
    logRequest(request, response, path, logger);
    response.on("finish", () => {
      metrics.httpRequests.inc({ route, status: String(response.statusCode) });
      metrics.httpDuration.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    traceRequest(request, response, route, () => handle(request, response, path, search)).catch((error: unknown) => {
      logger.error({ err: error, route }, "request failed");
      if (!response.headersSent) sendJson(response, 500, { error: "internal server error" });
      else response.destroy();
    });
  });

  return {
    httpServer,
    services,
    metrics,
    outbox,
    listen: async (port = config.port, host = config.host) => {
      const bound = await listenOn(httpServer, port, host);
      const metricsPort = metricsServer ? await listenOn(metricsServer, config.metricsPort!, host) : undefined;
      outbox.start();
      const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
      return { port: bound, url: `http://${shownHost}:${bound}/graphql`, metricsPort };
    },
    startDraining: () => {
      draining = true;
    },
    close: async () => {
      // Apollo's drain plugin stops accepting, closes idle keep-alive connections and waits for
      // the requests in flight before Apollo stops.
      await apollo.stop();
      await services.passwordReset.settled();
      await outbox.stop();
      if (metricsServer?.listening) await new Promise((resolve) => metricsServer.close(resolve));
    },
  };
}
