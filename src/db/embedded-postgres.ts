import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chown, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { freePort } from "../free-port.js";
import type { Logger } from "../observability/logger.js";
import { EmbeddedPostgresError, placePostgres, type PostgresPlacement } from "./postgres-placement.js";

export { EmbeddedPostgresError } from "./postgres-placement.js";

export interface EmbeddedDatabase {
  url: string;
  /** Where the data lives, for the start-up log. */
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** false: no fsync, for throwaway clusters (tests); a crash may lose recent commits. */
  durable?: boolean;
  maxConnections?: number;
}

const databaseName = "users";
const startTimeoutMs = 30_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readPid(file: string): Promise<number | undefined> {
  const pid = Number((await readFile(file, "utf8").catch(() => "")).split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The parent of a process (Linux `/proc`); undefined where it cannot be told. */
async function parentOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // "pid (command) state ppid …"; the command may itself hold spaces and parentheses.
  const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
}

/**
 * One instance per DATA_DIR. `postgres.owner` names the process whose embedded PostgreSQL this is.
 * A server whose owner is gone (it died hard) is stopped with a fast shutdown, which loses nothing
 * committed; a server whose owner still runs is that instance's, and this start is refused.
 */
async function claimCluster(dataDir: string, clusterDir: string, logger: Logger): Promise<string> {
  const ownerFile = path.join(dataDir, "postgres.owner");
  const owner = await readPid(ownerFile);
  const server = await readPid(path.join(clusterDir, "postmaster.pid"));
  const serverRunning = server !== undefined && isAlive(server);
  if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
    const serverParent = serverRunning ? await parentOf(server) : undefined;
    if (!serverRunning || serverParent === undefined || serverParent === owner) {
      throw new EmbeddedPostgresError(
        `another instance (pid ${owner}) runs on DATA_DIR ${dataDir}: stop it, or give this one another DATA_DIR or a DATABASE_URL (if no such instance runs, delete ${ownerFile})`,
      );
    }
  }
  if (serverRunning) {
    logger.warn({ pid: server }, "stopping an embedded PostgreSQL left running by an earlier process");
    process.kill(server, "SIGINT");
    for (let waited = 0; waited < 15_000 && isAlive(server); waited += 100) await sleep(100);
    if (isAlive(server))
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL left running (pid ${server}) did not stop; stop it by hand`,
      );
  }
  await writeFile(ownerFile, `${process.pid}\n`);
  return ownerFile;
}

/**
 * The URL of the embedded PostgreSQL a running server keeps under `dataDir`, or null when none is
 * running: command-line tools use it rather than start (and stop) a second one on the same data.
 */
export async function runningEmbeddedPostgresUrl(dataDir: string): Promise<string | null> {
  // postmaster.pid: the server's pid on its first line, its port on the fourth.
  const lines = (await readFile(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").catch(() => "")).split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !Number.isInteger(port) || port <= 0) return null;
  const password = (await readFile(path.join(dataDir, "postgres-password"), "utf8")).trim();
  return `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${databaseName}`;
}

async function readOrCreatePassword(file: string): Promise<string> {
  const existing = await readFile(file, "utf8").catch(() => null);
  if (existing) return existing.trim();
  const password = randomBytes(24).toString("base64url");
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** Runs a PostgreSQL program as the placement's user; its stderr tail on failure. */
function runProgram(
  placement: PostgresPlacement,
  program: string,
  args: string[],
  options: { detached?: boolean } = {},
): ChildProcess {
  return spawn(path.join(placement.nativeDir, "bin", program), args, {
    ...(placement.runAs ? { uid: placement.runAs.uid, gid: placement.runAs.gid } : {}),
    // Its own process group: Ctrl-C reaches this process, which stops the database last.
    detached: options.detached ?? false,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, LC_MESSAGES: "C" },
  });
}

function collectStderr(child: ChildProcess): () => string {
  let tail = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-2000);
  });
  return () => tail.trim().split("\n").slice(-3).join(" / ");
}

async function initialise(
  placement: PostgresPlacement,
  password: string,
  options: EmbeddedPostgresOptions,
): Promise<void> {
  // Beside the cluster (which initdb wants empty), readable by PostgreSQL's user only.
  const passwordFile = path.join(path.dirname(placement.clusterDir), `.initdb-${randomBytes(6).toString("hex")}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (placement.runAs) await chown(passwordFile, placement.runAs.uid, placement.runAs.gid);
  try {
    const child = runProgram(placement, "initdb", [
      `--pgdata=${placement.clusterDir}`,
      "--auth=scram-sha-256",
      "--username=postgres",
      `--pwfile=${passwordFile}`,
      "--encoding=UTF8",
      "--locale=C",
      "--locale-provider=builtin",
      "--builtin-locale=C.UTF-8",
      ...(options.durable === false ? ["--no-sync"] : []),
    ]);
    const stderr = collectStderr(child);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", resolve);
    });
    if (code !== 0)
      throw new EmbeddedPostgresError(
        `could not create the embedded PostgreSQL cluster in ${placement.clusterDir}: ${stderr()}`,
      );
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** Starts the server and waits until it accepts connections. */
async function startServer(
  placement: PostgresPlacement,
  port: number,
  password: string,
  options: EmbeddedPostgresOptions,
): Promise<ChildProcess> {
  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: "",
    ...(options.maxConnections ? { max_connections: String(options.maxConnections) } : {}),
    ...(options.durable === false ? { fsync: "off", synchronous_commit: "off", full_page_writes: "off" } : {}),
  };
  const args = [
    "-D",
    placement.clusterDir,
    "-p",
    String(port),
    ...Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
  ];
  const child = runProgram(placement, "postgres", args, { detached: true });
  const stderr = collectStderr(child);
  let exited = false;
  child.once("exit", () => (exited = true));
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    const failure = await Promise.race([spawnError, sleep(100).then(() => undefined)]);
    if (failure) throw new EmbeddedPostgresError(`could not run the embedded PostgreSQL: ${failure.message}`);
    if (exited) throw new EmbeddedPostgresError(`the embedded PostgreSQL stopped at start: ${stderr()}`);
    const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password, database: "postgres" });
    const connected = await client.connect().then(
      () => true,
      () => false,
    );
    await client.end().catch(() => {});
    if (connected) return child;
  }
  child.kill("SIGKILL");
  throw new EmbeddedPostgresError(
    `the embedded PostgreSQL did not accept connections within ${startTimeoutMs / 1000} s: ${stderr()}`,
  );
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGINT"); // fast shutdown: open transactions roll back, nothing committed is lost
  return exited;
}

/** The zero-configuration database: real PostgreSQL binaries from npm, data kept under `dataDir`. */
export async function startEmbeddedPostgres(
  dataDir: string,
  logger: Logger,
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedDatabase> {
  await mkdir(dataDir, { recursive: true });
  const placement = await placePostgres(dataDir, logger);
  const password = await readOrCreatePassword(path.join(dataDir, "postgres-password"));
  const ownerFile = await claimCluster(dataDir, placement.clusterDir, logger);
  if (!existsSync(path.join(placement.clusterDir, "PG_VERSION"))) {
    logger.info({ dataDir: placement.clusterDir }, "creating the embedded PostgreSQL cluster");
    await initialise(placement, password, options);
  }
  const port = await freePort();
  const server = await startServer(placement, port, password, options);
  // Should this process end without stopping it (an uncaught error), the database ends too.
  const stopOnExit = () => server.kill("SIGINT");
  process.once("exit", stopOnExit);
  const stop = async () => {
    process.off("exit", stopOnExit);
    await stopServer(server);
    await rm(ownerFile, { force: true });
  };
  try {
    const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password, database: "postgres" });
    await client.connect();
    try {
      const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [databaseName]);
      if (rowCount === 0) await client.query(`CREATE DATABASE ${databaseName}`);
    } finally {
      await client.end();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${databaseName}`,
    dataDir: placement.clusterDir,
    stop,
  };
}
