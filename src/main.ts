import "reflect-metadata";
import { loadConfigOrExit } from "./config/config.js";
import { createProcessLogger } from "./observability/logger.js";
import { startTracing } from "./observability/tracing.js";
import { startServer } from "./server.js";
import { StartupError } from "./startup-error.js";

const config = loadConfigOrExit();

const logger = await createProcessLogger(config.logLevel, config.logFormat, config.env === "production");
// A promise some request left unawaited is a bug to log, not a reason to drop every other request.
process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled promise rejection"));
// Before the server starts, so that its first request is traced too.
const stopTracing = await startTracing();
try {
  const server = await startServer(config, logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // SIGTERM is the orchestrator's: drain first. Ctrl-C (SIGINT) is someone at a terminal.
    const drainPeriodMs = signal === "SIGTERM" ? config.shutdownDrainPeriodMs : 0;
    logger.info({ signal, drainPeriodMs }, "shutting down");
    server
      .stop({ drainPeriodMs })
      .then(() => stopTracing?.()) // exports the spans still buffered
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => shutdown(signal));
} catch (error) {
  if (error instanceof StartupError) logger.fatal(`could not start: ${error.message}`);
  else logger.fatal({ err: error }, "could not start");
  process.exit(1);
}
