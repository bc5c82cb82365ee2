import "reflect-metadata";
import { createServer, type Server } from "node:http";
import { AccessTokens } from "./auth/access-tokens.js";
import type { EncryptionKeys } from "./auth/encryption-keys.js";
import type { PasswordHasher } from "./auth/password-hasher.js";
import type { SigningKeys } from "./auth/signing-keys.js";
import { systemClock, type Clock } from "./clock.js";
import type { Config } from "./config/config.js";
import { migrationNames } from "./db/migrate.js";
import { onQuery, type Database } from "./db/prisma.js";
import { primaryOnly, type LaggingReads } from "./db/read-replicas.js";
import type { DeliveryTuning } from "./events/delivery-worker.js";
import { createEventOutbox, type EventOutbox } from "./events/event-outbox.js";
import { startGraphQLServer } from "./graphql/apollo-server.js";
import { BrowserOrigins } from "./http/browser-origins.js";
import { TrustedProxies } from "./http/client-address.js";
import { createGraphQLHandler } from "./http/graphql-handler.js";
import { checkReadiness } from "./http/health.js";
import { listenOn } from "./http/listen.js";
import { createMetricsServer, metricsResponder } from "./http/metrics-server.js";
import { serveRoutes } from "./http/routes.js";
import type { MailTransport } from "./mail/mail-transport.js";
import { Mailer } from "./mail/mailer.js";
import type { Logger } from "./observability/logger.js";
import { Metrics } from "./observability/metrics.js";
import { createServices, type Services, type ServicesDependencies } from "./services.js";
import type { Store } from "./store/store.js";
import {
  buildSubgraphSchema,
  passwordOperationFields,
  subgraphContext,
  type SubgraphContext,
} from "./subgraph-schema.js";

export interface AppDependencies {
  config: Config;
  database: Database;
  /** Reads that may lag (DATABASE_REPLICA_URLS); absent: the primary serves them. */
  laggingReads?: LaggingReads;
  store: Store;
  signingKeys: SigningKeys;
  encryptionKeys: EncryptionKeys;
  hasher: PasswordHasher;
  mailTransport: MailTransport;
  logger: Logger;
  clock?: Clock;
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

/** The subgraph and its operational routes on one HTTP server; stores are passed in, not opened here. */
export async function createApp(dependencies: AppDependencies): Promise<App> {
  const { config, database, store, logger } = dependencies;
  const metrics = new Metrics();
  onQuery(database, () => metrics.databaseQueries.inc());
  const outbox = createEventOutbox({
    database,
    mailTransport: dependencies.mailTransport,
    encryptionKeys: dependencies.encryptionKeys,
    logger,
    events: config.events,
    redis: config.redis,
    clock: dependencies.clock ?? systemClock,
    registry: metrics.registry,
    tuning: dependencies.deliveryTuning,
  });
  const wiring = servicesDependencies(dependencies, metrics, outbox);
  metrics.watchReplicas(() => wiring.laggingReads.usableReplicas());
  const services = createServices(wiring);
  const migrations = await migrationNames();
  const httpServer = createServer();
  const apollo = await startGraphQLServer<SubgraphContext>({
    schema: await buildSubgraphSchema(services),
    httpServer,
    introspection: config.introspection,
    production: config.env === "production",
    limits: config.limits,
    passwordOperationFields,
    dependencyErrorLogIntervalMs: config.dependencyErrorLogIntervalMs,
    onErrorCode: (code) => metrics.graphqlErrors.inc({ code }),
    logger,
  });
  const sendMetrics = metricsResponder(metrics.registry);
  // With METRICS_PORT, /metrics is served there only, apart from the API.
  const metricsServer = config.metricsPort === undefined ? undefined : createMetricsServer(sendMetrics, logger);
  const routing = serveRoutes(
    httpServer,
    {
      graphql: createGraphQLHandler(
        apollo,
        subgraphContext(services, new TrustedProxies(config.trustProxy), config.browser.sessionCookieMaxAgeSeconds),
        new BrowserOrigins(config.browser.corsOrigins),
      ),
      readiness: () => checkReadiness(database, store, migrations),
      metrics: metricsServer ? undefined : sendMetrics,
      jwks: () => dependencies.signingKeys.jwks,
    },
    { metrics, logger },
  );
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
    startDraining: routing.startDraining,
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

/** What the services are made of: the stores and keys given, the settings they read. */
function servicesDependencies(
  dependencies: AppDependencies,
  metrics: Metrics,
  outbox: EventOutbox,
): ServicesDependencies {
  const { config, database, store, hasher, encryptionKeys, logger } = dependencies;
  const clock = dependencies.clock ?? systemClock;
  const { issuer, audience } = config.jwt;
  return {
    database,
    laggingReads: dependencies.laggingReads ?? primaryOnly(database),
    store,
    hasher,
    accessTokens: new AccessTokens(
      dependencies.signingKeys,
      { issuer, audience, ttlSeconds: config.sessions.lifetimes.accessTokenTtlSeconds },
      clock,
    ),
    encryptionKeys,
    mailer: new Mailer(outbox.mailQueue, { from: config.mail.from, appUrl: config.mail.appUrl }),
    outbox: outbox.outbox,
    clock,
    sessions: config.sessions,
    passwordAttempts: config.passwordAttempts,
    mfa: config.mfa,
    accounts: config.accounts,
    passkeys: config.passkeys,
    identityProviders: config.identityProviders,
    logger,
    onEvent: metrics.recordAuthEvent,
  };
}
