import { pendingMigrations } from "../db/migrate.js";
import type { Database } from "../db/prisma.js";
import type { Store } from "../store/store.js";

const checkTimeoutMs = 2_000;

function withTimeout(check: Promise<unknown>): Promise<"ok" | "unavailable"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), checkTimeoutMs);
  });
  return Promise.race([check, timeout])
    .then(
      () => "ok" as const,
      () => "unavailable" as const,
    )
    .finally(() => clearTimeout(timer));
}

export interface Readiness {
  ready: boolean;
  body: {
    status: "ok" | "unavailable";
    checks: { postgres: string; revocationStore: string; migrations: string };
    failing: string[];
  };
}

/**
 * Ready only while PostgreSQL and the revocation store both answer and every migration is applied
 * (production does not apply them itself: until `migrate.js` has run, no operation could work).
 */
export async function checkReadiness(
  database: Database,
  store: Pick<Store, "ping">,
  migrations: readonly string[],
): Promise<Readiness> {
  let pending: string[] | undefined;
  const [postgres, revocationStore] = await Promise.all([
    withTimeout(
      pendingMigrations(database, migrations).then((names) => {
        pending = names;
      }),
    ),
    withTimeout(store.ping()),
  ]);
  const checks = {
    postgres,
    revocationStore,
    migrations: pending === undefined ? "unknown" : pending.length > 0 ? "pending" : "ok",
  };
  const failing = Object.entries(checks)
    .filter(([, state]) => state !== "ok" && state !== "unknown")
    .map(([name]) => name);
  return {
    ready: failing.length === 0,
    body: { status: failing.length === 0 ? "ok" : "unavailable", checks, failing },
  };
}
