import type { Database } from "../db/prisma.js";
import type { RevocationStore } from "../auth/revocation/revocation-store.js";

const checkTimeoutMs = 2_000;

function withTimeout(check: Promise<unknown>): Promise<"ok" | "unavailable"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), checkTimeoutMs);
  });
  return Promise.race([check, timeout]).then(
    () => "ok" as const,
    () => "unavailable" as const,
  ).finally(() => clearTimeout(timer));
}

export interface Readiness {
  ready: boolean;
  body: { status: "ok" | "unavailable"; checks: { postgres: string; revocationStore: string }; failing: string[] };
}

/** Ready only while PostgreSQL and the revocation store both answer. */
export async function checkReadiness(database: Database, store: RevocationStore): Promise<Readiness> {
  const [postgres, revocationStore] = await Promise.all([
    withTimeout(database.$queryRaw`SELECT 1`),
    withTimeout(store.ping()),
  ]);
  const checks = { postgres, revocationStore };
  const failing = Object.entries(checks).filter(([, state]) => state !== "ok").map(([name]) => name);
  return { ready: failing.length === 0, body: { status: failing.length === 0 ? "ok" : "unavailable", checks, failing } };
}
