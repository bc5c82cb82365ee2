import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { temporaryDataDir } from "../harness/data-dir.js";
import { freePort, projectRoot, run, startProcess, type ServerProcess } from "../harness/process.js";

export interface Served {
  process: ServerProcess;
  baseUrl: string;
  url: string;
  stop(): Promise<void>;
}

/**
 * The compiled build, as production runs it, in a directory of this run's own: `npm run build`'s
 * dist/ may be rebuilt by others meanwhile. It sits beside dist/ because the build finds
 * prisma/ and schema/ relative to itself.
 */
export async function buildSubgraph(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = path.join(projectRoot, `.bench-build-${process.pid}`);
  const build = await run("npx", ["tsc", "-p", "tsconfig.build.json", "--outDir", dir]);
  if (build.code !== 0) throw new Error(`build failed:\n${build.output}`);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * The environment every server here runs in, as production should:
 * - at most two glibc malloc arenas. Each thread that allocates (V8's compiler and GC helpers,
 *   libuv's pool, worker threads) otherwise gets an arena of its own, which keeps what it once
 *   held: tens of megabytes, free yet resident.
 * - a young generation of 2 × 4 MB instead of 2 × 16. Start-up alone grows it to its maximum, and
 *   a request's garbage dies long before 4 MB of others' is allocated. V8 reads this only as the
 *   process starts, so it cannot be set from the server's own code.
 */
export const productionEnvironment = { MALLOC_ARENA_MAX: "2", NODE_OPTIONS: "--max-semi-space-size=4" };

async function serve(
  args: string[],
  environment: Record<string, string>,
  ready: (baseUrl: string) => string | Request,
  dataDir?: { remove(): Promise<void> },
): Promise<Served> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    const started = await startProcess(
      "node",
      args,
      { ...productionEnvironment, ...environment, PORT: String(port) },
      ready(baseUrl),
    );
    return {
      process: started,
      baseUrl,
      url: `${baseUrl}/graphql`,
      stop: async () => {
        await started.stop();
        await dataDir?.remove();
      },
    };
  } catch (error) {
    await dataDir?.remove();
    throw error;
  }
}

/**
 * The users subgraph as it is deployed: the compiled build in its own process, on the PostgreSQL
 * of `databaseUrl` and the Redis of REDIS_URL when set, else on the embedded defaults. As in
 * production, migrations run beforehand in a process of their own, not in the server. The login
 * limit is lifted so that one client address can log in thousands of times. `environment` adds
 * settings or overrides these.
 */
export async function startSubgraph(
  buildDir: string,
  databaseUrl = process.env.DATABASE_URL,
  environment: Record<string, string> = {},
): Promise<Served> {
  if (databaseUrl) {
    const migrated = await run("node", [path.join(buildDir, "cli", "migrate.js")], { DATABASE_URL: databaseUrl });
    if (migrated.code !== 0) throw new Error(`migrations failed:\n${migrated.output}`);
  }
  const dataDir = await temporaryDataDir("users-subgraph-bench-");
  const passThrough = Object.fromEntries(
    Object.entries({ DATABASE_URL: databaseUrl, REDIS_URL: process.env.REDIS_URL }).filter(
      (entry): entry is [string, string] => !!entry[1],
    ),
  );
  return serve(
    [path.join(buildDir, "main.js")],
    {
      ...passThrough,
      // Keys of its own in a shared Redis; a run leaves only what expires.
      REDIS_KEY_PREFIX: `bench:${path.basename(dataDir.dir)}:`,
      DATA_DIR: dataDir.dir,
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      // Every bench client is one address, and the login storm checks one account's password on
      // several connections at once: each check in flight counts until it settles.
      REGISTRATIONS_PER_ADDRESS: "1000000",
      SIGN_IN_STARTS_PER_ADDRESS: "1000000",
      LOGIN_FAILURES_PER_CLIENT: "1000000",
      LOGIN_FAILURES_PER_ACCOUNT: "1000000",
      LOGIN_FAILURES_PER_ADDRESS: "1000000",
      MAIL_REQUESTS_PER_HOUR: "1000000",
      // The login phases measure logins that all succeed, also when the machine is busy and a hash
      // waits long for its slot; the count bound of the hashing queue still applies.
      PASSWORD_HASHING_QUEUE_TIMEOUT: "60s",
      ...(databaseUrl ? { MIGRATE_ON_START: "false" } : {}),
      ...environment,
    },
    (baseUrl) => `${baseUrl}/health/ready`,
    dataDir,
  );
}

/**
 * better-auth (`bench/peer-server.ts`), compiled into the run's build directory and run by plain
 * `node` like the subgraph: a TypeScript loader would add its own thread and memory to the peer's.
 */
export async function buildPeer(buildDir: string): Promise<string> {
  const outDir = path.join(buildDir, "peer");
  const compiled = await run("npx", [
    "tsc",
    ...["--outDir", outDir, "--rootDir", "bench", "--module", "nodenext", "--moduleResolution", "nodenext"],
    ...["--target", "es2022", "--strict", "--skipLibCheck", "--types", "node", path.join("bench", "peer-server.ts")],
  ]);
  if (compiled.code !== 0) throw new Error(`compiling the peer failed:\n${compiled.output}`);
  return path.join(outDir, "peer-server.js");
}

/**
 * The compiled peer, its sessions in `redis` when given (else in PostgreSQL); like the subgraph, its
 * tables are made beforehand by a process of their own, which sees the same stores (better-auth
 * makes no session table when its sessions live in Redis).
 */
export async function startPeer(
  server: string,
  databaseUrl: string,
  redis?: { url: string; keyPrefix: string },
): Promise<Served> {
  const environment = {
    DATABASE_URL: databaseUrl,
    ...(redis ? { REDIS_URL: redis.url, PEER_REDIS_KEY_PREFIX: redis.keyPrefix } : {}),
  };
  const migrated = await run("node", [server], { ...environment, PEER_MIGRATE: "only" });
  if (migrated.code !== 0) throw new Error(`the peer's migrations failed:\n${migrated.output}`);
  return serve([server], environment, (baseUrl) => `${baseUrl}/api/auth/ok`);
}

/** The constant-resolver Apollo subgraph, in a process of its own like the subgraph it is compared with. */
export function startCeiling(): Promise<Served> {
  return serve(
    ["--import", "tsx", path.join("bench", "ceiling-server.ts")],
    {},
    (baseUrl) =>
      // Apollo's CSRF prevention answers a GET operation only with a preflight header.
      new Request(`${baseUrl}/graphql?query=%7B__typename%7D`, { headers: { "apollo-require-preflight": "true" } }),
  );
}

/** Seconds from spawning `npm start` with no configuration (a fresh DATA_DIR) until /health/ready answers 200. */
export async function timeZeroConfigStart(): Promise<number> {
  const dataDir = await temporaryDataDir("users-subgraph-bench-");
  try {
    const port = await freePort();
    const started = performance.now();
    const running = await startProcess(
      "npm",
      ["start"],
      { DATA_DIR: dataDir.dir, PORT: String(port) },
      `http://127.0.0.1:${port}/health/ready`,
    );
    const seconds = (performance.now() - started) / 1000;
    await running.stop();
    // npm returns on Ctrl-C before the server it ran has stopped its PostgreSQL, which removes
    // its pid file last.
    const pidFile = path.join(dataDir.dir, "postgres", "postmaster.pid");
    for (let waited = 0; waited < 15_000 && existsSync(pidFile); waited += 100) await sleep(100);
    return seconds;
  } finally {
    await dataDir.remove();
  }
}

/** Resident set size of a process, from /proc. */
export async function residentMegabytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kilobytes = Number(/^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1]);
  if (!Number.isFinite(kilobytes)) throw new Error(`no VmRSS for process ${pid}`);
  return kilobytes / 1024;
}
