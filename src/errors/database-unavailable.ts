import { Prisma } from "../generated/prisma/client.js";

// Prisma: cannot reach or time out on the server, pool timeout, a transaction that could not start
// (or was closed) within its time; credentials refused, no such database, its tables not there
// (not migrated yet).
const unavailablePrismaCodes = new Set([
  "P1000",
  "P1001",
  "P1002",
  "P1003",
  "P1008",
  "P1017",
  "P2021",
  "P2024",
  "P2028",
]);
const networkErrorCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EPIPE"]);
const unreachableMessages =
  /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Query read timeout|Connection is not open/i;

/**
 * SQLSTATEs of a server that cannot serve now, as opposed to a statement that is wrong: connection
 * exceptions (08), insufficient resources (53), shutting down or starting up (57P01–57P03),
 * a statement cancelled by `statement_timeout` (57014), and a database this server cannot use.
 */
function isUnavailableSqlState(code: string): boolean {
  // Also: no such database (3D000), no such table (42P01: not migrated yet), credentials refused (28P01).
  return /^(08|53)/.test(code) || /^57P0[123]$/.test(code) || ["57014", "3D000", "42P01", "28P01"].includes(code);
}

/** The PostgreSQL SQLSTATE of an error from pg or from Prisma's pg adapter, if it carries one. */
function sqlState(error: object): string | undefined {
  const adapterCause = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } }).meta
    ?.driverAdapterError?.cause;
  const candidates = [
    adapterCause?.originalCode,
    (error as { originalCode?: unknown }).originalCode,
    (error as { code?: unknown }).code,
  ];
  return candidates.find((code): code is string => typeof code === "string" && /^[0-9A-Z]{5}$/.test(code));
}

/** Whether PostgreSQL could not serve the request (as opposed to a query that is wrong). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError && unavailablePrismaCodes.has(error.code)) return true;
  if (error instanceof Prisma.PrismaClientRustPanicError) return false;
  for (let cause: unknown = error, depth = 0; cause && typeof cause === "object" && depth < 5; depth++) {
    const state = sqlState(cause);
    if (state !== undefined && isUnavailableSqlState(state)) return true;
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && networkErrorCodes.has(code)) return true;
    const message = (cause as { message?: unknown }).message;
    if (typeof message === "string" && unreachableMessages.test(message)) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}
