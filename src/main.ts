import "reflect-metadata";
import { ConfigError, loadConfig } from "./config/config.js";
import { createLogger } from "./observability/logger.js";
import { startServer } from "./server.js";

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = createLogger(config.logLevel);
// A promise some request left unawaited is a bug to log, not a reason to drop every other request.
process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled promise rejection"));
try {
  const server = await startServer(config, logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    // The embedded PostgreSQL package installs handlers that exit as soon as the database stops;
    // this process shuts down in its own order instead (HTTP drain, stores, then the database).
    process.removeAllListeners(signal);
    process.on(signal, () => shutdown(signal));
  }
} catch (error) {
  logger.fatal({ err: error }, "could not start");
  process.exit(1);
}
