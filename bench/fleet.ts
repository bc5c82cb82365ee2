// `npm run bench -- --fleet`: the throughput of one, two and three instances of the subgraph
// sharing one PostgreSQL and one Redis, as behind a load balancer, on this machine.
import { availableParallelism } from "node:os";
import path from "node:path";
import { temporaryDataDir } from "../harness/data-dir.js";
import { freePort, projectRoot } from "../harness/process.js";
import { startRedis, stopRedis } from "../harness/redis-server.js";
import { EncryptionKeys } from "../src/auth/encryption-keys.js";
import { exportPrivateJwks, generateSigningKey } from "../src/auth/signing-keys.js";
import { bestOfAlternatingRounds, planFor, round, seed, seededUsers, throughputConnections } from "./bench.js";
import { benchPostgres, scratchDatabase } from "./databases.js";
import { drive, graphqlCall, type HttpCall, type LoadResult } from "./load.js";
import { buildSubgraph, startSubgraph, type Served } from "./processes.js";
import { writeResults } from "./report.js";
import { mutations } from "../harness/graphql.js";

const maxInstances = 3;
/** Logins at once over the whole fleet: each costs an argon2id hash. */
const loginConnections = 4;

interface FleetRow {
  instances: number;
  meRequestsPerSecond: number;
  loginRequestsPerSecond: number;
}

/** One PostgreSQL database and one Redis for the fleet, of the run's own; the settings every instance shares. */
async function sharedEnvironment(
  stops: (() => Promise<unknown>)[],
): Promise<{ databaseUrl: string; environment: Record<string, string> }> {
  const dataDir = await temporaryDataDir("users-subgraph-fleet-");
  stops.push(dataDir.remove);
  const postgres = await benchPostgres(dataDir.dir);
  stops.push(postgres.stop);
  const database = await scratchDatabase(postgres.url, "bench_fleet");
  stops.push(database.drop);
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const port = await freePort();
    const redis = await startRedis(port);
    stops.push(() => stopRedis(redis));
    redisUrl = `redis://127.0.0.1:${port}`;
  }
  // One key set and one Redis key prefix for all: a token one instance signed or revoked is known to every other.
  const environment = {
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `bench:${path.basename(dataDir.dir)}:`,
    JWT_PRIVATE_KEYS: await exportPrivateJwks([await generateSigningKey()]),
    ENCRYPTION_KEYS: EncryptionKeys.generate("fleet"),
  };
  return { databaseUrl: database.url, environment };
}

/**
 * Drives every instance at once, `connections` spread evenly over them, as a load balancer that
 * spreads connections would: the fleet's requests per second.
 */
async function driveFleet(
  fleet: Served[],
  calls: HttpCall[],
  connections: number,
  durationSeconds: number,
): Promise<LoadResult> {
  const results = await Promise.all(
    fleet.map((instance, index) =>
      drive({
        baseUrl: instance.baseUrl,
        calls,
        connections: Math.floor(connections / fleet.length) + (index < connections % fleet.length ? 1 : 0),
        durationSeconds,
      }),
    ),
  );
  return {
    requests: results.reduce((sum, result) => sum + result.requests, 0),
    requestsPerSecond: results.reduce((sum, result) => sum + result.requestsPerSecond, 0),
    latenciesMs: results.flatMap((result) => result.latenciesMs).sort((a, b) => a - b),
  };
}

function formatFleet(rows: FleetRow[]): string {
  const one = rows[0]!;
  const lines = [
    "| instances | `me` req/s | × one | login req/s | × one |",
    "|---|---|---|---|---|",
    ...rows.map(
      (row) =>
        `| ${row.instances} | ${Math.round(row.meRequestsPerSecond)} | ${round(row.meRequestsPerSecond / one.meRequestsPerSecond)} | ` +
        `${round(row.loginRequestsPerSecond, 1)} | ${round(row.loginRequestsPerSecond / one.loginRequestsPerSecond)} |`,
    ),
  ];
  return lines.join("\n");
}

/** Starts the instances one by one and measures the fleet after each; the table, and the results file. */
export async function runFleet(quick: boolean, log: (message: string) => void): Promise<void> {
  const startedAt = new Date();
  const plan = planFor(quick);
  const stops: (() => Promise<unknown>)[] = [];
  try {
    log("building the users subgraph; one PostgreSQL database and one Redis for the fleet");
    const build = await buildSubgraph();
    stops.push(build.remove);
    const { databaseUrl, environment } = await sharedEnvironment(stops);
    const fleet: Served[] = [];
    const rows: FleetRow[] = [];
    let calls: { me: HttpCall[]; login: HttpCall[] } | undefined;
    for (let instances = 1; instances <= maxInstances; instances++) {
      log(`starting instance ${instances}`);
      const instance = await startSubgraph(build.dir, databaseUrl, environment);
      stops.push(instance.stop);
      fleet.push(instance);
      calls ??= await seededCalls(fleet[0]!, quick, log);
      log(`${instances} instance(s): me, then login`);
      await driveFleet(fleet, calls.me, throughputConnections, plan.warmup);
      const [meRps = 0] = await bestOfAlternatingRounds(plan.throughputRounds, () =>
        driveFleet(fleet, calls!.me, throughputConnections, plan.throughput),
      );
      const logins = await driveFleet(fleet, calls.login, loginConnections, plan.throughput);
      rows.push({ instances, meRequestsPerSecond: meRps, loginRequestsPerSecond: logins.requestsPerSecond });
    }
    const file = await writeResults(path.join(projectRoot, "bench", "results"), {
      startedAt,
      quick,
      fleet: true,
      machine: { cpus: availableParallelism(), node: process.version },
      rows,
    });
    console.log(formatFleet(rows));
    const last = rows.at(-1)!;
    console.log(
      `\nscaling, ${maxInstances} instances ÷ one: me ${round(last.meRequestsPerSecond / rows[0]!.meRequestsPerSecond)}, ` +
        `login ${round(last.loginRequestsPerSecond / rows[0]!.loginRequestsPerSecond)} ` +
        `(${availableParallelism()} cores shared by the instances, PostgreSQL, Redis and the load generator)`,
    );
    console.log(`results in ${path.relative(projectRoot, file)}`);
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

/** Accounts registered through the first instance; `me` and `login` of each. */
async function seededCalls(instance: Served, quick: boolean, log: (message: string) => void) {
  const count = quick ? 10 : seededUsers;
  log(`registering ${count} users`);
  const users = await seed(instance.url, count);
  return {
    me: users.map((user) => graphqlCall({ query: mutations.me, token: user.accessToken })),
    login: users.map(({ usernameOrEmail, password }) =>
      graphqlCall({ query: mutations.login, variables: { input: { usernameOrEmail, password } } }),
    ),
  };
}
