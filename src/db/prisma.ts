import v8 from "node:v8";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { endSpan, startClientSpan } from "../observability/tracing.js";

/**
 * How long a transaction may wait for a pooled connection (Prisma's default is 2 s): bursts queue
 * for one instead of failing, and the wait stays bounded.
 */
export const transactionOptions = { maxWait: 10_000 } as const;

// Prisma's query compiler is a 3.4 MB WebAssembly module. V8 compiles it with its baseline
// compiler, Liftoff, then recompiles hot functions with TurboFan on its helper threads, whose
// compilation memory (≈ 40 MB at its peak) stays resident in those threads' malloc arenas for the
// life of the process. Liftoff's code compiles queries fast enough. The flag must be set before
// the module is compiled: here, before any client exists.
v8.setFlagsFromString("--liftoff-only");

export type Transaction = Parameters<Parameters<Database["$transaction"]>[0]>[0];

export interface QueryEvent {
  query: string;
}

type QueryListener = (event: QueryEvent) => void;

export interface DatabaseTimeouts {
  /** One statement: PostgreSQL cancels it (`statement_timeout`); a server that does not answer at all is given a second more. */
  statementMs: number;
  /** Opening a connection, or waiting for a free one of the pool (also to start a transaction). */
  connectMs: number;
}

export const defaultDatabaseTimeouts: DatabaseTimeouts = { statementMs: 5_000, connectMs: 3_000 };

export interface DatabaseOptions {
  /** Report every statement to `onQuery` listeners. */
  emitQueryEvents?: boolean;
  poolSize?: number;
  timeouts?: DatabaseTimeouts;
}

/**
 * A pg client that tells `listeners` about every statement it runs once it completes: Prisma's,
 * transaction control included, and raw reads alike. Cheaper than Prisma's own query events.
 * Each statement is also a trace span (a no-op unless tracing is on).
 */
function reportingClient(listeners: Set<QueryListener>): typeof pg.Client {
  return class ReportingClient extends pg.Client {
    // pg's overloads: (text | config, values?, callback?); the pool always passes a callback.
    // biome-ignore lint/suspicious/noExplicitAny: one override stands for all of pg's overloads and their results
    override query(...args: unknown[]): any {
      const [first] = args;
      const text = typeof first === "string" ? first : ((first as pg.QueryConfig | undefined)?.text ?? "");
      const span = startClientSpan("postgresql", { "db.system.name": "postgresql", "db.query.text": text });
      const report = (error?: unknown) => {
        endSpan(span, error);
        for (const listener of listeners) listener({ query: text });
      };
      const callback = args.at(-1);
      if (typeof callback === "function") {
        args[args.length - 1] = (...outcome: unknown[]) => {
          report(outcome[0]);
          callback(...outcome);
        };
        return (super.query as (...args: unknown[]) => unknown)(...args);
      }
      const result = (super.query as (...args: unknown[]) => unknown)(...args);
      if (result instanceof Promise) result.then(() => report(), report);
      return result;
    }
  };
}

/**
 * Prisma over node-postgres (the query compiler needs no engine binary), and the pool itself for
 * the rare read too hot for Prisma's per-query cost.
 */
export class Database extends PrismaClient {
  readonly pool: pg.Pool;
  readonly queryListeners: Set<QueryListener>;

  constructor(databaseUrl: string, options: DatabaseOptions = {}) {
    const queryListeners = new Set<QueryListener>();
    const { statementMs, connectMs } = options.timeouts ?? defaultDatabaseTimeouts;
    const pool = new pg.Pool({
      connectionString: databaseUrl,
      max: options.poolSize ?? 10,
      // Every wait on PostgreSQL is bounded, so a hung server costs a request seconds, not forever.
      statement_timeout: statementMs,
      query_timeout: statementMs + 1_000,
      connectionTimeoutMillis: connectMs,
      ...(options.emitQueryEvents ? { Client: reportingClient(queryListeners) } : {}),
    });
    // An idle connection that breaks (PostgreSQL restarted or stopped) is dropped by the pool; the
    // next query opens a new one, or fails where it can be answered. Without a listener, the pool's
    // error event would crash the process.
    pool.on("error", () => {});
    super({
      adapter: new PrismaPg(pool, { disposeExternalPool: true }),
      // Minimal: error messages never render the query's arguments (a password hash, say).
      errorFormat: "minimal",
      transactionOptions: { maxWait: connectMs, timeout: 2 * statementMs },
    });
    this.pool = pool;
    this.queryListeners = queryListeners;
  }
}

export function createDatabase(databaseUrl: string, options: DatabaseOptions = {}): Database {
  return new Database(databaseUrl, options);
}

/** Calls `listener` for every SQL statement; the client must be created with `emitQueryEvents`. */
export function onQuery(database: Database, listener: QueryListener): void {
  database.queryListeners.add(listener);
}
