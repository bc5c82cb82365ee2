import { isDatabaseUnavailable } from "../errors/database-unavailable.js";
import type { Logger } from "../observability/logger.js";
import { createDatabase, type Database, type DatabaseOptions } from "./prisma.js";
import { describeUrl } from "./url.js";

export interface ReadReplicaSettings {
  /** PostgreSQL streaming replicas of the primary; none: the primary serves every read. */
  urls: string[];
  /** A replica further behind than this is skipped. */
  maxLagSeconds: number;
}

/**
 * Reads whose answer may lag behind the primary (another subgraph's view of a user, lists, the
 * audit log): a replica serves them when one is up and close enough, else the primary. Whatever
 * decides a credential, a session or a revocation never goes through here.
 */
export interface LaggingReads {
  read<T>(work: (database: Database) => Promise<T>): Promise<T>;
  /** Replicas serving these reads right now. */
  usableReplicas(): number;
}

/** The primary for everything: no replicas. */
export function primaryOnly(primary: Database): LaggingReads {
  return { read: (work) => work(primary), usableReplicas: () => 0 };
}

/** How often each replica's lag is measured. */
const checkIntervalMs = 1_000;

interface Replica {
  database: Database;
  name: string;
  /** Whether the last check found it replaying within the allowed lag; a failed read clears it. Unknown before the first. */
  usable?: boolean;
}

interface ReplicaState {
  inRecovery: boolean;
  streaming: boolean;
  caughtUp: boolean | null;
  sinceReplay: number | null;
}

/**
 * A replica's lag: none when it replayed all it received from a live stream, else the age of the
 * last transaction it replayed; null when unknown (no stream, nothing replayed yet). A server not
 * in recovery is not a replica (or was promoted): never used. Each is readable without privileges
 * (a WAL receiver's pid only is).
 */
const lagQuery = `SELECT pg_is_in_recovery() AS "inRecovery",
  EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE pid IS NOT NULL) AS streaming,
  pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() AS "caughtUp",
  EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS "sinceReplay"`;

function lagOf(state: ReplicaState): number | null {
  if (!state.inRecovery || !state.streaming) return null;
  return state.caughtUp ? 0 : state.sinceReplay;
}

/**
 * The replicas of DATABASE_REPLICA_URLS, each measured every second, taken in turn. A read that
 * finds its replica unreachable is served by the primary, and that replica skipped until its next
 * good measure.
 */
export class ReadReplicas implements LaggingReads {
  private readonly replicas: Replica[];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly primary: Database,
    private readonly settings: ReadReplicaSettings,
    options: DatabaseOptions,
    private readonly logger: Logger,
  ) {
    this.replicas = settings.urls.map((url) => ({
      database: createDatabase(url, options),
      name: `the replica at ${describeUrl(url)}`,
    }));
  }

  /** Measures every replica once, then every second; a replica down does not stop the start. */
  async start(): Promise<void> {
    if (this.replicas.length === 0) return;
    await this.check();
    this.timer = setInterval(() => void this.check(), checkIntervalMs).unref();
  }

  usableReplicas(): number {
    return this.replicas.filter((replica) => replica.usable).length;
  }

  async read<T>(work: (database: Database) => Promise<T>): Promise<T> {
    const replica = this.pick();
    if (!replica) return work(this.primary);
    try {
      return await work(replica.database);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      this.mark(replica, false, "unreachable");
      return work(this.primary);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.replicas.map((replica) => replica.database.$disconnect()));
  }

  private pick(): Replica | undefined {
    for (let tried = 0; tried < this.replicas.length; tried++) {
      const replica = this.replicas[this.next++ % this.replicas.length]!;
      if (replica.usable) return replica;
    }
    return undefined;
  }

  private async check(): Promise<void> {
    // A replica that hangs holds a check up to the statement timeout: checks never pile up.
    if (this.checking) return;
    this.checking = true;
    await Promise.all(
      this.replicas.map(async (replica) => {
        try {
          const [state] = await replica.database.$queryRawUnsafe<ReplicaState[]>(lagQuery);
          const lag = lagOf(state!);
          if (lag === null) this.mark(replica, false, "not replaying from a live stream");
          else if (lag > this.settings.maxLagSeconds) this.mark(replica, false, `${Math.round(lag)} s behind`);
          else this.mark(replica, true);
        } catch {
          this.mark(replica, false, "unreachable");
        }
      }),
    );
    this.checking = false;
  }

  private mark(replica: Replica, usable: boolean, why?: string): void {
    if (replica.usable === usable) return;
    replica.usable = usable;
    if (usable) this.logger.info(`${replica.name} serves reads that may lag`);
    else this.logger.warn(`${replica.name} is skipped (${why}): the primary serves its reads`);
  }
}
