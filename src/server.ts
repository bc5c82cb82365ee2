import { setTimeout as sleep } from "node:timers/promises";
import { grantAdmin } from "./admin/bootstrap.js";
import { createApp, type App } from "./app.js";
import { createArgon2Hasher, defaultHashingConcurrency, owaspArgon2id, type PasswordHasher } from "./auth/password-hasher.js";
import { MemoryRevocationStore } from "./auth/revocation/memory-revocation-store.js";
import { RedisRevocationStore } from "./auth/revocation/redis-revocation-store.js";
import type { RevocationStore } from "./auth/revocation/revocation-store.js";
import { EncryptionKeys, loadOrCreateDevelopmentEncryptionKeys } from "./auth/encryption-keys.js";
import { loadOrCreateDevelopmentKeys, parseSigningKeys } from "./auth/signing-keys.js";
import type { Config } from "./config/config.js";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "./db/embedded-postgres.js";
import { applyMigrations, migrationNames, pendingMigrations } from "./db/migrate.js";
import { createDatabase, type Database } from "./db/prisma.js";
import { describeUrl } from "./db/url.js";
import { eventReceivers } from "./events/receivers.js";
import { createMailTransport } from "./mail/mail-transport.js";
import type { Logger } from "./observability/logger.js";
import { reasonOf, StartupError } from "./startup-error.js";

/** Ended sessions stay a week (visible to support and audits), then go with their refresh tokens. */
const endedSessionRetentionSeconds = 7 * 86400;
const purgeIntervalMs = 60 * 60 * 1000;

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
      logger.warn({ pending }, `${postgres} lacks ${pending.length} migration(s): not ready until node dist/cli/migrate.js applies them`);
    }
  } catch (error) {
    logger.warn(`${postgres} does not answer (${reasonOf(error)}): not ready, operations answer SERVICE_UNAVAILABLE until it does`);
  }
}

/**
 * Opens the stores the configuration names (or the embedded defaults), then serves. Whatever was
 * opened is closed again if a later step fails.
 */
export async function startServer(config: Config, logger: Logger, options: { hasher?: PasswordHasher } = {}): Promise<RunningServer> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => logger.error({ err: error }, "shutdown step failed"));
    cleanups.length = 0;
  };
  try {
    let databaseUrl = config.databaseUrl;
    let embedded: EmbeddedDatabase | undefined;
    if (!databaseUrl) {
      embedded = await startEmbeddedPostgres(config.dataDir, logger);
      cleanups.push(() => embedded!.stop());
      databaseUrl = embedded.url;
    }
    const postgres = embedded ? "the embedded PostgreSQL" : `PostgreSQL at ${describeUrl(databaseUrl)} (DATABASE_URL)`;
    if (config.migrateOnStart) {
      const applied = await applyMigrations(databaseUrl).catch((error: unknown) => {
        throw new StartupError(`could not migrate ${postgres}: ${reasonOf(error)}`);
      });
      if (applied.length > 0) logger.info({ migrations: applied }, "applied database migrations");
    }
    // Query events feed the SQL-statement counter of /metrics.
    const database: Database = createDatabase(databaseUrl, {
      emitQueryEvents: true,
      timeouts: { statementMs: config.timeouts.databaseStatementMs, connectMs: config.timeouts.databaseConnectMs },
    });
    cleanups.push(() => database.$disconnect());
    if (!config.migrateOnStart) await reportUnreadyDatabase(database, postgres, logger);

    const revocationStore: RevocationStore = config.redisUrl
      ? await RedisRevocationStore.connect(config.redisUrl, config.redisKeyPrefix, config.timeouts.redisCommandMs).catch((error: unknown) => {
          throw new StartupError(`Redis at ${describeUrl(config.redisUrl!)} (REDIS_URL) is unreachable: ${reasonOf(error)}`);
        })
      : new MemoryRevocationStore();
    cleanups.push(() => revocationStore.close());

    const signingKeys = config.jwt.privateKeys
      ? await parseSigningKeys(config.jwt.privateKeys)
      : await loadOrCreateDevelopmentKeys(config.dataDir);

    const encryptionKeys = config.encryptionKeys
      ? EncryptionKeys.parse(config.encryptionKeys)
      : await loadOrCreateDevelopmentEncryptionKeys(config.dataDir);
    const mailTransport = createMailTransport(config, logger);
    cleanups.push(() => mailTransport.close());

    const app = await createApp({
      config,
      database,
      revocationStore,
      signingKeys,
      encryptionKeys,
      hasher: options.hasher ?? createArgon2Hasher(owaspArgon2id, defaultHashingConcurrency, config.passwordHashingQueue),
      mailTransport,
      logger,
    });
    cleanups.push(() => app.close());
    for (const email of config.adminEmails) {
      const outcome = await grantAdmin(database, app.services.audit, email, "ADMIN_EMAILS");
      if (outcome === "no such account") logger.warn({ email }, "ADMIN_EMAILS names no account (yet): nothing granted");
      else logger.info({ email, outcome }, "ADMIN_EMAILS applied");
    }
    const purge = () =>
      Promise.all([
        app.services.sessions.purgeEndedSessions(endedSessionRetentionSeconds).then(
          (count) => count > 0 && logger.info({ count }, "purged ended sessions"),
          (error: unknown) => logger.warn({ err: error }, "could not purge ended sessions"),
        ),
        app.services.mfaLogin.purgeExpired().catch((error: unknown) => logger.warn({ err: error }, "could not purge expired MFA challenges")),
        app.services.tokens.purgeExpired(database).then(
          (count) => count > 0 && logger.info({ count }, "purged expired account links"),
          (error: unknown) => logger.warn({ err: error }, "could not purge expired account links"),
        ),
        app.services.audit.purgeOlderThan(config.securityEventRetentionSeconds).then(
          (count) => count > 0 && logger.info({ count }, "purged security events past their retention"),
          (error: unknown) => logger.warn({ err: error }, "could not purge security events"),
        ),
        app.outbox.purge(config.events.retentionSeconds).then(
          ({ givenUp, purged }) => {
            if (givenUp > 0) logger.warn({ count: givenUp }, "gave up outbox deliveries that no instance delivered in time");
            if (purged > 0) logger.info({ count: purged }, "purged outbox messages past their retention");
          },
          (error: unknown) => logger.warn({ err: error }, "could not purge the outbox"),
        ),
      ]);
    const purgeTimer = setInterval(purge, purgeIntervalMs).unref();
    cleanups.push(async () => clearInterval(purgeTimer));
    const { url, port, metricsPort } = await app.listen();
    logger.info(
      {
        url,
        metrics: metricsPort === undefined ? "/metrics on the API port" : `/metrics on port ${metricsPort}`,
        env: config.env,
        database: embedded ? `embedded PostgreSQL (data in ${embedded.dataDir})` : `PostgreSQL at ${describeUrl(databaseUrl)}`,
        revocationStore: config.redisUrl ? `Redis at ${describeUrl(config.redisUrl)}` : "in-process (single instance only)",
        signingKeys: signingKeys.jwks.keys.map((key) => key.kid),
        encryptionKeys: encryptionKeys.keyIds,
        mail: mailTransport.description,
        events: eventReceivers(config.events),
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
