import "reflect-metadata";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
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
import { onQuery, type Database } from "./db/prisma.js";
import { createErrorFormatter, isDatabaseUnavailable } from "./errors/format-error.js";
import { createContext, type Context } from "./graphql/context.js";
import { rejectNulCharacters } from "./graphql/nul-characters.js";
import { operationLimits } from "./graphql/operation-limits.js";
import { buildUsersSubgraphSchema } from "./graphql/schema.js";
import { createGraphQLHandler } from "./http/graphql-handler.js";
import type { MailTransport } from "./mail/mail-transport.js";
import { Mailer } from "./mail/mailer.js";
import { checkReadiness } from "./http/health.js";
import type { Logger } from "./observability/logger.js";
import { assertSecretsReadable } from "./mfa/reencryption.js";
import { Metrics } from "./observability/metrics.js";
import { defaultLoginLimits, type PasswordAttemptLimits } from "./rate-limit/password-attempts.js";
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
}

export interface App {
  httpServer: Server;
  services: Services;
  metrics: Metrics;
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
}

/** Every route the server answers; docs/api.md documents each. */
export const routes = new Set(["/graphql", "/health/live", "/health/ready", "/metrics", "/.well-known/jwks.json"]);

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
  const services = createServices({
    database,
    revocationStore,
    hasher,
    accessTokens,
    encryptionKeys,
    mailer: new Mailer(dependencies.mailTransport, { from: config.mail.from, appUrl: config.mail.appUrl }),
    clock,
    lifetimes: {
      accessTokenTtlSeconds: config.jwt.accessTokenTtlSeconds,
      refreshTokenTtlSeconds: config.jwt.refreshTokenTtlSeconds,
      refreshReuseIntervalSeconds: config.jwt.refreshReuseIntervalSeconds,
    },
    loginLimits: { ...defaultLoginLimits, ...dependencies.loginLimits },
    totpIssuer: config.totpIssuer,
    accountLinks: config.accountLinks,
    logger,
    onEvent: metrics.recordAuthEvent,
  });
  // Verifying the dummy hash the first time costs a hash: pay it now, not on a first login.
  await Promise.all([
    hasher.dummyHash(),
    // Keys that cannot open every stored secret would lock accounts out: refuse them now. A database
    // that cannot be reached yet does not stop the start (readiness reports it).
    assertSecretsReadable(database, encryptionKeys).catch((error: unknown) => {
      if (!isDatabaseUnavailable(error)) throw error;
      logger.warn("could not check that ENCRYPTION_KEYS opens every stored secret: the database is unreachable");
    }),
  ]);

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
      rejectNulCharacters,
      // The schema declares no cache hints, so this plugin's per-field bookkeeping only ever
      // concluded "no-store"; the GraphQL handler sends that header itself.
      ApolloServerPluginCacheControlDisabled(),
      !config.introspection
        ? ApolloServerPluginLandingPageDisabled()
        : production
          ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
          : ApolloServerPluginLandingPageLocalDefault({ footer: false, includeCookies: false }),
    ],
    logger,
  });
  await apollo.start();
  const handleGraphQL = createGraphQLHandler(apollo, (request) => createContext(services, request));

  const handle = async (request: IncomingMessage, response: ServerResponse, path: string, search: string) => {
    switch (path) {
      case "/graphql":
        return handleGraphQL(request, response, search);
      case "/health/live":
        return sendJson(response, 200, { status: "ok" });
      case "/health/ready": {
        const readiness = await checkReadiness(database, revocationStore);
        return sendJson(response, readiness.ready ? 200 : 503, readiness.body);
      }
      case "/metrics":
        response.writeHead(200, { "content-type": metrics.registry.contentType });
        return response.end(await metrics.registry.metrics());
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
    response.on("finish", () => {
      metrics.httpRequests.inc({ route, status: String(response.statusCode) });
      metrics.httpDuration.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    handle(request, response, path, search).catch((error: unknown) => {
      logger.error({ err: error, route }, "request failed");
      if (!response.headersSent) sendJson(response, 500, { error: "internal server error" });
      else response.destroy();
    });
  });

  return {
    httpServer,
    services,
    metrics,
    listen: (port = config.port, host = config.host) =>
      new Promise((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(port, host, () => {
          httpServer.off("error", reject);
          const { port: bound } = httpServer.address() as AddressInfo;
          const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
          resolve({ port: bound, url: `http://${shownHost}:${bound}/graphql` });
        });
      }),
    close: async () => {
      await apollo.stop(); // drains the HTTP server
      await services.passwordReset.settled();
    },
  };
}
