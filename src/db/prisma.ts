import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.js";

export type Database = PrismaClient;
export type Transaction = Parameters<Parameters<Database["$transaction"]>[0]>[0];

export interface QueryEvent {
  query: string;
  duration: number;
}

/** Prisma over node-postgres: the query compiler needs no engine binary. */
export function createDatabase(databaseUrl: string, options: { emitQueryEvents?: boolean; poolSize?: number } = {}): Database {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
  return new PrismaClient({
    adapter,
    // Minimal: error messages never render the query's arguments (a password hash, say).
    errorFormat: "minimal",
    log: options.emitQueryEvents ? [{ emit: "event", level: "query" }] : [],
  });
}

/** Calls `listener` for every SQL statement; the client must be created with `emitQueryEvents`. */
export function onQuery(database: Database, listener: (event: QueryEvent) => void): void {
  (database as unknown as { $on(event: "query", listener: (event: QueryEvent) => void): void }).$on("query", listener);
}
