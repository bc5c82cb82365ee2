import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { newAccount } from "../harness/accounts.js";
import { graphql, mutations } from "../harness/graphql.js";
import { drive, graphqlCall, type HttpCall, type LoadOptions, type LoadResult } from "./load.js";
import { benchDatabases, peerCalls, peerSucceeded, seedPeer, type BenchDatabases, type PeerUser } from "./peer.js";
import { buildPeer, buildSubgraph, startCeiling, startPeer, startSubgraph, type Served } from "./processes.js";

/** Seconds per load phase; the quick mode only proves that every figure is produced. */
export function planFor(quick: boolean) {
  return quick
    ? {
        warmup: 0.5,
        throughput: 1,
        throughputRounds: 1,
        latency: 1,
        tail: 2,
        tailRounds: 1,
        hashSamples: 5,
        writes: 1,
        resetPairs: 20,
        passkeySignIns: 10,
      }
    : {
        warmup: 2,
        throughput: 5,
        throughputRounds: 3,
        latency: 5,
        tail: 8,
        tailRounds: 3,
        hashSamples: 40,
        writes: 3,
        resetPairs: 400,
        passkeySignIns: 200,
      };
}

export const seededUsers = 100;
export const throughputConnections = 10;

export type Driver = (options: Omit<LoadOptions, "baseUrl">) => Promise<LoadResult>;

export interface Seeded {
  id: string;
  email: string;
  usernameOrEmail: string;
  password: string;
  accessToken: string;
}

/** The servers of one run, the accounts seeded on them, and the requests every phase sends. */
export interface Bench {
  quick: boolean;
  /** A progress line on stderr. */
  log(message: string): void;
  plan: ReturnType<typeof planFor>;
  subgraph: Served;
  ceiling: Served;
  /** better-auth, with `--peers`. */
  peer?: Served;
  /** Another subgraph of the same build on the same database, with `settings` added (a phase stops it). */
  startSubgraph(settings: Record<string, string>): Promise<Served>;
  driveSubgraph: Driver;
  driveCeiling: Driver;
  drivePeer: Driver;
  /** Requests answered so far, for the memory figures. */
  requests: { subgraph: number; peer: number };
  users: Seeded[];
  peerUsers: PeerUser[];
  peerRequest: ReturnType<typeof peerCalls>;
  /** `me` and `login` of every seeded user; better-auth's get-session of its own. */
  calls: { me: HttpCall[]; login: HttpCall[]; getSession: HttpCall[] };
}

/** Accounts made the way clients make them: `register` over HTTP, with the real argon2id cost. */
export async function seed(url: string, count: number): Promise<Seeded[]> {
  const seeded: Seeded[] = [];
  const concurrency = 4;
  for (let start = 0; start < count; start += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, count - start) }, () => newAccount("bench"));
    await Promise.all(
      batch.map(async (account) => {
        const response = await graphql(url, mutations.register, { input: account });
        if (response.errors) throw new Error(`register failed: ${JSON.stringify(response.errors)}`);
        const { user, accessToken } = response.data!.register;
        seeded.push({
          id: user.id,
          email: account.email,
          usernameOrEmail: account.username,
          password: account.password,
          accessToken,
        });
      }),
    );
  }
  return seeded;
}

/** The compiled subgraph, the framework ceiling and (with `peers`) better-auth, started; `stops` undoes each step. */
async function startServers(
  peers: boolean,
  stops: (() => Promise<void>)[],
): Promise<Pick<Bench, "subgraph" | "ceiling" | "peer" | "startSubgraph">> {
  const build = await buildSubgraph();
  stops.push(build.remove);
  let databases: BenchDatabases | undefined;
  if (peers) {
    const dataDir = await mkdtemp(path.join(tmpdir(), "users-subgraph-bench-db-"));
    stops.push(() => rm(dataDir, { recursive: true, force: true }));
    databases = await benchDatabases(dataDir);
    stops.push(databases.remove);
  }
  const subgraph = await startSubgraph(build.dir, databases?.subgraphUrl);
  stops.push(subgraph.stop);
  const ceiling = await startCeiling();
  stops.push(ceiling.stop);
  const peer = databases && (await startPeer(await buildPeer(build.dir), databases.peerUrl, databases.peerRedis));
  if (peer) stops.push(peer.stop);
  const another = (settings: Record<string, string>) => startSubgraph(build.dir, databases?.subgraphUrl, settings);
  return { subgraph, ceiling, peer, startSubgraph: another };
}

/** Starts the servers and seeds them. Memory depends on what a server was asked, not on how fast: both are seeded at once. */
export async function startBench(
  quick: boolean,
  peers: boolean,
  stops: (() => Promise<void>)[],
  log: (message: string) => void,
): Promise<Bench> {
  log(`building the users subgraph, starting it${peers ? ", better-auth" : ""} and the ceiling server`);
  const { subgraph, ceiling, peer, startSubgraph: another } = await startServers(peers, stops);
  const requests = { subgraph: 0, peer: 0 };
  const counted =
    (baseUrl: string, counter: "subgraph" | "peer", extra: Partial<LoadOptions> = {}): Driver =>
    async (options) => {
      const result = await drive({ baseUrl, ...extra, ...options });
      requests[counter] += result.requests;
      return result;
    };
  log(`registering ${seededUsers} users`);
  const [users, peerUsers] = await Promise.all([
    seed(subgraph.url, seededUsers),
    peer ? seedPeer(peer.baseUrl, seededUsers) : [],
  ]);
  requests.subgraph += users.length;
  requests.peer += peerUsers.length;
  const peerRequest = peerCalls(peer?.baseUrl ?? "");
  const [meUsers, loginUsers] = [users.slice(0, users.length / 2), users.slice(users.length / 2)];
  return {
    quick,
    log,
    plan: planFor(quick),
    subgraph,
    ceiling,
    peer,
    startSubgraph: another,
    driveSubgraph: counted(subgraph.baseUrl, "subgraph"),
    driveCeiling: (options) => drive({ baseUrl: ceiling.baseUrl, ...options }),
    drivePeer: counted(peer?.baseUrl ?? "", "peer", { succeeded: peerSucceeded }),
    requests,
    users,
    peerUsers,
    peerRequest,
    calls: {
      getSession: peerUsers.map(peerRequest.getSession),
      // Apart: a login storm past MAX_SESSIONS_PER_ACCOUNT ends an account's oldest session, which
      // would be the one its `me` calls use.
      me: meUsers.map((user) => graphqlCall({ query: mutations.me, token: user.accessToken })),
      login: loginUsers.map(({ usernameOrEmail, password }) =>
        graphqlCall({ query: mutations.login, variables: { input: { usernameOrEmail, password } } }),
      ),
    },
  };
}

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));
export const ms = (value: number) => `${value.toFixed(2)} ms`;

/** The best of alternating rounds: interference from other work on the machine only lowers a round. */
export async function bestOfAlternatingRounds(
  rounds: number,
  ...servers: (() => Promise<LoadResult>)[]
): Promise<number[]> {
  const best = servers.map(() => 0);
  for (let i = 0; i < rounds; i++) {
    for (const [index, server] of servers.entries())
      best[index] = Math.max(best[index]!, (await server()).requestsPerSecond);
  }
  return best;
}
