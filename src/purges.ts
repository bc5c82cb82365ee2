import type { App } from "./app.js";
import type { Config } from "./config/config.js";
import type { Database } from "./db/prisma.js";
import type { Logger } from "./observability/logger.js";

/** Ended sessions stay a week (visible to support and audits), then go with their refresh tokens. */
const endedSessionRetentionSeconds = 7 * 86400;
const purgeIntervalMs = 60 * 60 * 1000;

/** Logs how many rows a purge deleted (nothing when none), or that it failed: the next run tries again. */
function report(purge: Promise<number>, logger: Logger, purged: string, failed = purged): Promise<unknown> {
  return purge.then(
    (count) => count > 0 && logger.info({ count }, `purged ${purged}`),
    (error: unknown) => logger.warn({ err: error }, `could not purge ${failed}`),
  );
}

/**
 * Hourly, deletes what can no longer be used nor needs to be kept, so that no table grows without
 * bound: ended sessions past their week, expired MFA challenges and account links, security events
 * and settled outbox deliveries past their retention. Returns the stop.
 */
export function startPurges(
  app: Pick<App, "services" | "outbox">,
  database: Database,
  retention: Pick<Config, "securityEventRetentionSeconds" | "events">,
  logger: Logger,
): () => void {
  const { services, outbox } = app;
  const purge = () =>
    Promise.all([
      report(services.sessions.purgeEndedSessions(endedSessionRetentionSeconds), logger, "ended sessions"),
      services.mfaChallenges
        .purgeExpired()
        .catch((error: unknown) => logger.warn({ err: error }, "could not purge expired MFA challenges")),
      report(services.singleUseTokens.purgeExpired(database), logger, "expired account links"),
      report(
        services.audit.purgeOlderThan(retention.securityEventRetentionSeconds),
        logger,
        "security events past their retention",
        "security events",
      ),
      outbox.purge(retention.events.retentionSeconds).then(
        ({ givenUp, purged }) => {
          if (givenUp > 0)
            logger.warn({ count: givenUp }, "gave up outbox deliveries that no instance delivered in time");
          if (purged > 0) logger.info({ count: purged }, "purged outbox messages past their retention");
        },
        (error: unknown) => logger.warn({ err: error }, "could not purge the outbox"),
      ),
    ]);
  const timer = setInterval(purge, purgeIntervalMs).unref();
  return () => clearInterval(timer);
}
