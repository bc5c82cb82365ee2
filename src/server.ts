import { setTimeout as sleep } from "node:timers/promises";
import { grantAdmin } from "./admin/bootstrap.js";
import { createApp, type App, type AppDependencies } from "./app.js";
import { EncryptionKeys, loadOrCreateDevelopmentEncryptionKeys } from "./auth/encryption-keys.js";
import {
  createArgon2Hasher,
  defaultHashingConcurrency,
  owaspArgon2id,
  type PasswordHasher,
} from "./auth/password-hasher.js";
import { loadOrCreateDevelopmentKeys, parseSigningKeys } from "./auth/signing-keys.js";
import type { Config } from "./config/config.js";
import { migrationNames, pendingMigrations } from "./db/migrate.js";
import { openDatabase, type OpenedDatabase } from "./db/open-database.js";
import type { Database } from "./db/prisma.js";
import { ReadReplicas } from "./db/read-replicas.js";
import { describeUrl } from "./db/url.js";
import { isDatabaseUnavailable } from "./errors/database-unavailable.js";
import { eventReceivers } from "./events/receivers.js";
import { createMailTransport } from "./mail/configured-transport.js";
import { assertSecretsReadable } from "./mfa/reencryption.js";
import type { Logger } from "./observability/logger.js";
import { startPurges } from "./purges.js";
import { reasonOf } from "./startup-error.js";
import { describeRedis, openStore } from "./store/open-store.js";

export interface RunningServer {
  app: App;
  url: string;
  port: number;
  /**
   * Readiness turns 503 at once; after `drainPeriodMs` of serving as usual (load balancers take
   * the instance out meanwhile) the server stops accepting, finishes what it accepted, then
   * closes Redis and PostgreSQL.
   */
  stop(options?: { drainPeriodMs?: number }): Promise<void>;
}

/**
 * Production serves a database it does not migrate: say at start when it cannot work yet. The
 * process still starts (readiness stays 503, operations answer SERVICE_UNAVAILABLE) and becomes
 * ready once the database answers and `migrate.js` has run, without a restart.
 */
async function reportUnreadyDatabase(database: Database, postgres: string, logger: Logger): Promise<void> {
  try {
    const pending = await pendingMigrations(database, await migrationNames());
    if (pending.length > 0) {
      logger.warn(
        { pending },
        `${postgres} lacks ${pending.length} migration(s): not ready until node dist/cli/migrate.js applies them`,
      );
    }
  } catch (error) {
    logger.warn(
      `${postgres} does not answer (${reasonOf(error)}): not ready, operations answer SERVICE_UNAVAILABLE until it does`,
    );
  }
}

/**
 * What a process does before it serves. The first verification of the dummy hash costs a hash:
 * paid now, not by a first login. Keys that cannot open every stored secret would lock accounts
 * out: refused now (a database that cannot be reached yet does not stop the start; readiness
 * reports it). The in-process store starts empty, and Redis may have lost data while no instance
 * ran: the revocation set is loaded now rather than on the first request; if that fails, the
 * first request that checks a token tries again (and fails closed meanwhile). Each identity
 * provider is discovered, within IDENTITY_PROVIDER_TIMEOUT; one that fails is logged and
 * unavailable, not fatal.
 */
export async function prepareToServe(
  app: App,
  dependencies: Pick<AppDependencies, "database" | "encryptionKeys" | "hasher" | "logger">,
): Promise<void> {
  const { database, encryptionKeys, hasher, logger } = dependencies;
  await Promise.all([
    hasher.dummyHash(),
    assertSecretsReadable(database, encryptionKeys).catch((error: unknown) => {
      if (!isDatabaseUnavailable(error)) throw error;
      logger.warn("could not check that ENCRYPTION_KEYS opens every stored secret: the database is unreachable");
    }),
    app.services.revocations
      .rebuild()
      .catch((error: unknown) => logger.warn({ err: error }, "could not load the revocation set yet")),
    app.services.identityProviders.load(),
  ]);
}

/** ADMIN_EMAILS: the accounts that exist are made admins (again: it is idempotent). */
async function applyAdminEmails(app: App, database: Database, emails: string[], logger: Logger): Promise<void> {
  for (const email of emails) {
    const outcome = await grantAdmin(database, app.services.audit, email, "ADMIN_EMAILS");
    if (outcome === "no such account") logger.warn({ email }, "ADMIN_EMAILS names no account (yet): nothing granted");
    else logger.info({ email, outcome }, "ADMIN_EMAILS applied");
  }
}

/** The keys the configuration names, or (development) those generated once under DATA_DIR. */
async function loadKeys(config: Config) {
  const signingKeys = config.jwt.privateKeys
    ? await parseSigningKeys(config.jwt.privateKeys)
    : await loadOrCreateDevelopmentKeys(config.dataDir);
  const encryptionKeys = config.encryptionKeys
    ? EncryptionKeys.parse(config.encryptionKeys)
    : await loadOrCreateDevelopmentEncryptionKeys(config.dataDir);
  return { signingKeys, encryptionKeys };
}

/** What the start-up log says the server runs on: the stores, the keys, the mail, the event receivers. */
function runningOn(
  config: Config,
  opened: OpenedDatabase,
  {
    signingKeys,
    encryptionKeys,
    mailTransport,
  }: Pick<AppDependencies, "signingKeys" | "encryptionKeys" | "mailTransport">,
) {
  return {
    env: config.env,
    database: opened.embeddedDataDir
      ? `embedded PostgreSQL (data in ${opened.embeddedDataDir})`
      : `PostgreSQL at ${describeUrl(opened.url)}`,
    readReplicas: config.databaseReplicas.urls.map(describeUrl),
    revocationStore: describeRedis(config.redis) ?? "in-process (single instance only)",
    signingKeys: signingKeys.jwks.keys.map((key) => key.kid),
    encryptionKeys: encryptionKeys.keyIds,
    mail: mailTransport.description,
    events: eventReceivers(config.events),
  };
}

/**
 * Opens the stores the configuration names (or the embedded defaults), then serves. Whatever was
 * opened is closed again if a later step fails.
 */
export async function startServer(
  config: Config,
  logger: Logger,
  options: { hasher?: PasswordHasher } = {},
): Promise<RunningServer> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error) => logger.error({ err: error }, "shutdown step failed"));
    cleanups.length = 0;
  };
  try {
    // Query events feed the SQL-statement counter of /metrics.
    const timeouts = { statementMs: config.timeouts.databaseStatementMs, connectMs: config.timeouts.databaseConnectMs };
    const opened = await openDatabase(config, logger, {
      migrate: config.migrateOnStart,
      emitQueryEvents: true,
      timeouts,
    });
    cleanups.push(() => opened.close());
    if (opened.applied.length > 0) logger.info({ migrations: opened.applied }, "applied database migrations");
    if (!config.migrateOnStart) await reportUnreadyDatabase(opened.database, opened.name, logger);
    const readReplicas = new ReadReplicas(opened.database, config.databaseReplicas, { timeouts }, logger);
    cleanups.push(() => readReplicas.close());
    await readReplicas.start();
    const store = await openStore({
      redis: config.redis,
      redisKeyPrefix: config.redisKeyPrefix,
      redisCommandMs: config.timeouts.redisCommandMs,
    });
    cleanups.push(() => store.close());
    const { signingKeys, encryptionKeys } = await loadKeys(config);
    const mailTransport = createMailTransport(config, logger);
    cleanups.push(() => mailTransport.close());
    const hasher =
      options.hasher ?? createArgon2Hasher(owaspArgon2id, defaultHashingConcurrency, config.passwordHashingQueue);
    const dependencies = {
      config,
      database: opened.database,
      laggingReads: readReplicas,
      store,
      signingKeys,
      encryptionKeys,
      hasher,
      mailTransport,
      logger,
    };
    const app = await createApp(dependencies);
    cleanups.push(() => app.close());
    await prepareToServe(app, dependencies);
    await applyAdminEmails(app, opened.database, config.adminEmails, logger);
    const stopPurges = startPurges(app, opened.database, config, logger);
    cleanups.push(async () => stopPurges());
    const { url, port, metricsPort } = await app.listen();
    logger.info(
      {
        url,
        metrics: metricsPort === undefined ? "/metrics on the API port" : `/metrics on port ${metricsPort}`,
        ...runningOn(config, opened, dependencies),
      },
      "users subgraph ready",
    );
    return {
      app,
      url,
      port,
      stop: async ({ drainPeriodMs = 0 } = {}) => {
        app.startDraining();
        await sleep(drainPeriodMs);
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
