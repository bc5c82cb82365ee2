import { execFile } from "node:child_process";
import { chown, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { temporaryDataDir } from "../../harness/data-dir.js";
import { freePort } from "../../harness/process.js";
import { applyMigrations } from "../../src/db/migrate.js";

/** Debian's PostgreSQL (`apt-get install postgresql`), its newest version: initdb, pg_ctl and pg_basebackup. */
async function postgresBin(): Promise<string> {
  const versions = (await readdir("/usr/lib/postgresql").catch(() => [])).filter((name) => /^\d+$/.test(name));
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error("no PostgreSQL under /usr/lib/postgresql: apt-get install postgresql");
  return path.join("/usr/lib/postgresql", newest, "bin");
}
const databaseName = "users_replica_test";

export interface StreamingReplication {
  /** The migrated database on the primary. */
  primaryUrl: string;
  /** The same database on the replica. */
  replicaUrl: string;
  /** The replica's log: it logs every statement it runs. */
  replicaLog(): Promise<string>;
  /** Runs a statement on the replica (the test's own look). */
  onReplica<T extends pg.QueryResultRow>(sql: string): Promise<T[]>;
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Waits until the replica has replayed everything the primary has written so far. */
  caughtUp(): Promise<void>;
  stopReplica(): Promise<void>;
  stop(): Promise<void>;
}

const run = promisify(execFile);

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user. */
async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
    run("id", ["-u", "postgres"]),
    run("id", ["-g", "postgres"]),
  ]);
  return { uid: Number(uid), gid: Number(gid) };
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/**
 * A PostgreSQL primary and a streaming replica of it (`pg_basebackup -R`) on loopback, of the test's
 * own, in a temporary directory: pausing or stopping the replica disturbs no one else.
 */
export async function startStreamingReplication(): Promise<StreamingReplication> {
  const bin = await postgresBin();
  const user = await postgresUser();
  const dir = await temporaryDataDir("users-replication-");
  if (user) await chown(dir.dir, user.uid, user.gid);
  const command = (name: string, args: string[]) => run(path.join(bin, name), args, { ...user, cwd: dir.dir });
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const serverOptions = (port: number) => `-p ${port} -k ${dir.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const pgCtl = (cluster: string, ...args: string[]) =>
    command("pg_ctl", ["-D", path.join(dir.dir, cluster), "-l", path.join(dir.dir, `${cluster}.log`), ...args]);
  const stopAll = async () => {
    for (const cluster of ["replica", "primary"]) await pgCtl(cluster, "stop", "-m", "immediate").catch(() => {});
    await dir.remove();
  };
  try {
    await command("initdb", ["-D", path.join(dir.dir, "primary"), "-U", "postgres", "--auth=trust", "--no-sync"]);
    await pgCtl("primary", "-o", `${serverOptions(primaryPort)} -c wal_level=replica`, "-w", "start");
    const primaryUrl = `postgresql://postgres@127.0.0.1:${primaryPort}/${databaseName}`;
    await query(`postgresql://postgres@127.0.0.1:${primaryPort}/postgres`, `CREATE DATABASE ${databaseName}`);
    await applyMigrations(primaryUrl);
    const basebackup = ["-h", "127.0.0.1", "-p", String(primaryPort), "-U", "postgres", "-c", "fast", "-X", "stream"];
    await command("pg_basebackup", [...basebackup, "-R", "-D", path.join(dir.dir, "replica")]);
    await pgCtl("replica", "-o", `${serverOptions(replicaPort)} -c log_statement=all`, "-w", "start");
    const replicaUrl = `postgresql://postgres@127.0.0.1:${replicaPort}/${databaseName}`;
    const replicaLog = () => readFile(path.join(dir.dir, "replica.log"), "utf8");
    return { ...replicationControls(primaryUrl, replicaUrl, pgCtl, stopAll), replicaLog };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function replicationControls(
  primaryUrl: string,
  replicaUrl: string,
  pgCtl: (cluster: string, ...args: string[]) => Promise<unknown>,
  stop: () => Promise<void>,
): Omit<StreamingReplication, "replicaLog"> {
  const onReplica = <T extends pg.QueryResultRow>(sql: string) => query<T>(replicaUrl, sql);
  return {
    primaryUrl,
    replicaUrl,
    onReplica,
    pauseReplay: async () => {
      await onReplica("SELECT pg_wal_replay_pause()");
    },
    resumeReplay: async () => {
      await onReplica("SELECT pg_wal_replay_resume()");
    },
    caughtUp: async () => {
      const [{ lsn }] = (await query<{ lsn: string }>(primaryUrl, "SELECT pg_current_wal_lsn()::text AS lsn")) as [
        { lsn: string },
      ];
      for (let attempt = 0; attempt < 300; attempt++) {
        const [{ behind }] = (await onReplica<{ behind: boolean }>(
          `SELECT pg_last_wal_replay_lsn() < '${lsn}'::pg_lsn AS behind`,
        )) as [{ behind: boolean }];
        if (!behind) return;
        await sleep(100);
      }
      throw new Error("the replica did not catch up within 30 s");
    },
    stopReplica: async () => {
      await pgCtl("replica", "stop", "-m", "immediate");
    },
    stop,
  };
}

/** A primary and its replica for the test file: started before its tests, stopped after them. */
export function useStreamingReplication(): () => StreamingReplication {
  let replication: StreamingReplication | undefined;
  beforeAll(async () => {
    replication = await startStreamingReplication();
  });
  afterAll(() => replication?.stop());
  return () => replication!;
}
