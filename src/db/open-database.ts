import type { Logger } from "../observability/logger.js";
import { reasonOf, StartupError } from "../startup-error.js";
import { runningEmbeddedPostgresUrl, startEmbeddedPostgres } from "./embedded-postgres.js";
import { applyMigrations } from "./migrate.js";
import { createDatabase, type Database, type DatabaseOptions } from "./prisma.js";
import { describeUrl } from "./url.js";

export interface OpenedDatabase {
  database: Database;
  url: string;
  /** What messages call it, never with credentials: the embedded PostgreSQL, or PostgreSQL at host/database (DATABASE_URL). */
  name: string;
  /** Where an embedded PostgreSQL started here keeps its data. */
  embeddedDataDir?: string;
  /** The migrations applied on opening. */
  applied: string[];
  /** Disconnects, then stops the embedded PostgreSQL if it was started here. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions extends DatabaseOptions {
  /** Applies pending migrations first (MIGRATE_ON_START). */
  migrate: boolean;
  /** Uses the embedded PostgreSQL a running server keeps under the same DATA_DIR rather than start a second one: the command line. */
  joinRunning?: boolean;
}

/**
 * The PostgreSQL of `DATABASE_URL`, else the embedded one under `DATA_DIR`: the server's and every
 * command's. Whatever was started is stopped again if a later step fails.
 */
export async function openDatabase(
  settings: { databaseUrl?: string; dataDir: string },
  logger: Logger,
  options: OpenDatabaseOptions,
): Promise<OpenedDatabase> {
  const { migrate, joinRunning = false, ...databaseOptions } = options;
  const running = !settings.databaseUrl && joinRunning ? await runningEmbeddedPostgresUrl(settings.dataDir) : null;
  const embedded = settings.databaseUrl || running ? undefined : await startEmbeddedPostgres(settings.dataDir, logger);
  const url = settings.databaseUrl ?? running ?? embedded!.url;
  const name = settings.databaseUrl ? `PostgreSQL at ${describeUrl(url)} (DATABASE_URL)` : "the embedded PostgreSQL";
  try {
    const applied = migrate
      ? await applyMigrations(url).catch((error: unknown) => {
          throw new StartupError(`could not migrate ${name}: ${reasonOf(error)}`);
        })
      : [];
    const database = createDatabase(url, databaseOptions);
    const close = async () => {
      await database.$disconnect();
      await embedded?.stop();
    };
    return { database, url, name, embeddedDataDir: embedded?.dataDir, applied, close };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
