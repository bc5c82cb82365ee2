import type { Clock } from "../clock.js";
import type { Database, Transaction } from "../db/prisma.js";
import { AppError, ServiceUnavailableError } from "../errors/errors.js";
import type { RevocationStore } from "../store/revocation-store.js";

/** The advisory lock between endings (shared) and rebuilds (exclusive); any constant of our own. */
export const endingLockKey = 0x75736572_73_0001n;
/** How long a rebuild waits for the endings in progress before giving up (and failing closed). */
const rebuildLockTimeout = "5s";

/**
 * Ending sessions holds the lock shared from before it writes the store until PostgreSQL commits;
 * a rebuild holds it exclusively while it reads. So a rebuild reads every ending whose store
 * write it may have missed (one written just before the store lost its data), and no ending
 * waits on another.
 */
export async function holdEndingLock(tx: Transaction): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(${endingLockKey})`;
}

export interface RevocationSetDependencies {
  database: Database;
  store: RevocationStore;
  clock: Clock;
  onRebuilt?: (sessions: number) => void;
}

/**
 * Whether a session has ended, answered by the revocation store, which caches what PostgreSQL
 * knows. When the store does not hold the current set (it lost its data, or this process just
 * started with the in-process store), the set is rebuilt from PostgreSQL — the sessions ended
 * whose newest access token has not expired — before any token is trusted; until then every
 * check fails closed with SERVICE_UNAVAILABLE.
 */
export class RevocationSet {
  private rebuilding: Promise<void> | undefined;

  constructor(private readonly dependencies: RevocationSetDependencies) {}

  async isRevoked(sessionId: string): Promise<boolean> {
    const { store } = this.dependencies;
    const known = await store.sessionRevocation(sessionId);
    if (known !== "unknown") return known === "revoked";
    await this.rebuild();
    const rebuilt = await store.sessionRevocation(sessionId);
    if (rebuilt === "unknown") throw new ServiceUnavailableError("revocation-store");
    return rebuilt === "revoked";
  }

  /** One rebuild at a time per process; concurrent callers wait for the same one. */
  rebuild(): Promise<void> {
    this.rebuilding ??= this.load().finally(() => {
      this.rebuilding = undefined;
    });
    return this.rebuilding;
  }

  private async load(): Promise<void> {
    const { database, store, clock, onRebuilt } = this.dependencies;
    try {
      const ticket = await store.beginRebuild();
      const now = clock.now();
      const ended = await database.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${rebuildLockTimeout}'`);
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${endingLockKey})`;
        return tx.session.findMany({
          where: { revokedAt: { not: null }, accessTokenExpiresAt: { gt: now } },
          select: { id: true, accessTokenExpiresAt: true },
        });
      });
      const entries = ended.map((session) => ({
        sessionId: session.id,
        ttlSeconds: Math.ceil((session.accessTokenExpiresAt.getTime() - now.getTime()) / 1000),
      }));
      // False: the store lost its data again meanwhile, or another instance rebuilt it.
      if (!(await store.completeRebuild(ticket, entries))) return;
      onRebuilt?.(entries.length);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new ServiceUnavailableError("revocation-store", error);
    }
  }
}
