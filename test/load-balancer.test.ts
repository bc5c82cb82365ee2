import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildSubgraph, startSubgraph, type Served } from "../bench/processes.js";
import { newAccount } from "../harness/accounts.js";
import { errorCodes, mutations, sessionMutations, type GraphQLResponse } from "../harness/graphql.js";
import { EncryptionKeys } from "../src/auth/encryption-keys.js";
import { exportPrivateJwks, generateSigningKey } from "../src/auth/signing-keys.js";
import { useTestDatabase } from "./helpers/database.js";
import { testRedisUrl } from "./helpers/environment.js";
import { type LoadBalancer, startHaproxy } from "./helpers/haproxy.js";

// Three instances of the compiled build behind HAProxy, sharing one database, one Redis and one key set.
const database = useTestDatabase();
let build: Awaited<ReturnType<typeof buildSubgraph>>;
const instances: Served[] = [];
let balancer: LoadBalancer;
beforeAll(async () => {
  build = await buildSubgraph();
  const environment = {
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: `load-balancer:${randomBytes(4).toString("hex")}:`,
    JWT_PRIVATE_KEYS: await exportPrivateJwks([await generateSigningKey()]),
    ENCRYPTION_KEYS: EncryptionKeys.generate("fleet"),
    SHUTDOWN_DRAIN_PERIOD: "2s",
  };
  for (let index = 0; index < 3; index++) instances.push(await startSubgraph(build.dir, database().url, environment));
  balancer = await startHaproxy(instances);
}, 300_000);
afterAll(async () => {
  await balancer?.stop();
  for (const instance of instances) await instance.stop();
  await build?.remove();
});

interface Answer {
  ok: boolean;
  /** The server HAProxy chose; null when it closed the connection without an answer (a server gone mid-request). */
  servedBy: string | null;
  /** Why no answer came. */
  error?: string;
  /** When the failure was seen. */
  at?: number;
  response?: GraphQLResponse;
}

/** One request through the load balancer: a failure is any answer but a 200 (or no answer). */
async function send(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<Answer> {
  try {
    const response = await fetch(`${balancer.baseUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const servedBy = response.headers.get("x-served-by");
    if (response.status !== 200) return { ok: false, servedBy };
    return { ok: true, servedBy, response: { status: 200, ...((await response.json()) as object) } };
  } catch (error) {
    return { ok: false, servedBy: null, error: String((error as Error).cause ?? error) };
  }
}

const sessionOf = (accessToken: string): string =>
  JSON.parse(Buffer.from(accessToken.split(".")[1]!, "base64url").toString()).sid;

interface Client {
  account: ReturnType<typeof newAccount>;
  id: string;
  accessToken: string;
  refreshToken: string;
}

/** What the mixed load saw, every request and every session it started or ended. */
interface Run {
  failures: Answer[];
  requests: number;
  revokedAccepted: number;
  otherErrors: string[];
  acknowledgedSessions: Set<string>;
  loggedOut: string[];
}

/** Sends one operation, again (as a client would) while it fails: the answer it finally got. */
async function until(run: Run, operation: () => Promise<Answer>): Promise<GraphQLResponse> {
  for (;;) {
    const answer = await operation();
    run.requests++;
    if (answer.ok) return answer.response!;
    run.failures.push({ ...answer, at: performance.now() });
    await sleep(50);
  }
}

const entities = `query Entities($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id } } }`;

/** One client's loop: me, _entities, a login whose session it ends and checks, a refresh. */
async function clientLoop(client: Client, others: Client[], run: Run, running: () => boolean): Promise<void> {
  for (let step = 0; running(); step++) {
    const expectOk = (response: GraphQLResponse, what: string) => {
      if (response.errors) run.otherErrors.push(`${what}: ${errorCodes(response)}`);
      return !response.errors;
    };
    expectOk(await until(run, () => send(mutations.me, {}, client.accessToken)), "me");
    const representations = [client, ...others.slice(0, 3)].map(({ id }) => ({ __typename: "User", id }));
    expectOk(await until(run, () => send(entities, { representations })), "_entities");
    if (step % 3 === 0) {
      const input = { usernameOrEmail: client.account.username, password: client.account.password };
      const login = await until(run, () => send(mutations.login, { input }));
      if (expectOk(login, "login")) {
        const { accessToken } = login.data!.login;
        run.acknowledgedSessions.add(sessionOf(accessToken));
        const failuresBefore = run.failures.length;
        const logout = await until(run, () => send(sessionMutations.logout, {}, accessToken));
        // A logout sent again because its answer was lost may find the session already ended.
        const retried = run.failures.length > failuresBefore;
        if (!(retried && errorCodes(logout).join() === "UNAUTHENTICATED")) expectOk(logout, "logout");
        run.loggedOut.push(accessToken);
        const after = await until(run, () => send(mutations.me, {}, accessToken));
        if (!after.errors) run.revokedAccepted++;
      }
    }
    const refreshed = await until(run, () => send(sessionMutations.refresh, { refreshToken: client.refreshToken }));
    if (expectOk(refreshed, "refresh")) {
      client.accessToken = refreshed.data!.refreshSession.accessToken;
      client.refreshToken = refreshed.data!.refreshSession.refreshToken;
      run.acknowledgedSessions.add(sessionOf(client.accessToken));
    }
  }
}

async function signUp(): Promise<Client> {
  const account = newAccount("balanced");
  const response = await until(
    { failures: [], requests: 0, revokedAccepted: 0, otherErrors: [], acknowledgedSessions: new Set(), loggedOut: [] },
    () => send(mutations.register, { input: account }),
  );
  expect(response.errors).toBeUndefined();
  const { accessToken, refreshToken, user } = response.data!.register;
  return { account, id: user.id, accessToken, refreshToken };
}

async function countStored(sessionIds: string[]): Promise<number> {
  const client = new pg.Client({ connectionString: database().url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM sessions WHERE id = ANY($1::text[])",
      [sessionIds],
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

/** Stops an instance with `name` and waits until its process is gone; when the signal was sent. */
async function signal(instance: Served, name: "SIGTERM" | "SIGKILL"): Promise<number> {
  const exited = instance.process.exited;
  const sentAt = performance.now();
  instance.process.child.kill(name);
  await exited;
  return sentAt;
}

it("under a mixed load, one instance SIGTERMed and one SIGKILLed: only requests in flight on the killed one fail; nothing lost, nothing revoked accepted", async () => {
  const clients = await Promise.all(Array.from({ length: 6 }, signUp));
  const run: Run = {
    failures: [],
    requests: 0,
    revokedAccepted: 0,
    otherErrors: [],
    acknowledgedSessions: new Set(clients.map((client) => sessionOf(client.accessToken))),
    loggedOut: [],
  };
  let running = true;
  const load = Promise.all(
    clients.map((client) =>
      clientLoop(
        client,
        clients.filter((other) => other !== client),
        run,
        () => running,
      ),
    ),
  );
  await sleep(1_500);
  await signal(instances[0]!, "SIGTERM");
  await sleep(1_000);
  const killedAt = await signal(instances[1]!, "SIGKILL");
  await sleep(2_000);
  running = false;
  await load;
  console.log(
    `${run.requests} requests, ${run.failures.length} failed (${JSON.stringify(run.failures.map(({ servedBy, error }) => servedBy ?? error))}), ` +
      `${run.loggedOut.length} logouts, ${run.acknowledgedSessions.size} sessions`,
  );

  expect(run.otherErrors).toEqual([]);
  expect(run.revokedAccepted).toBe(0);
  // Only requests in flight on the killed instance (s2) failed: none before it was killed (the
  // SIGTERMed one drained without losing any), none that HAProxy answered from another, at most one
  // per client (each has one request in flight).
  for (const failure of run.failures) {
    expect(failure.at).toBeGreaterThanOrEqual(killedAt);
    expect([null, "s2"]).toContain(failure.servedBy);
  }
  expect(run.failures.length).toBeLessThanOrEqual(clients.length);

  // Nothing lost: every session a client was told of is stored, each client's latest refresh token works.
  const sessions = [...run.acknowledgedSessions];
  const stored = await countStored(sessions);
  expect(stored).toBe(sessions.length);
  const survivors = await Promise.all(
    clients.map((client) => until(run, () => send(sessionMutations.refresh, { refreshToken: client.refreshToken }))),
  );
  for (const refreshed of survivors) expect(refreshed.errors).toBeUndefined();
  for (const token of run.loggedOut) {
    expect(errorCodes(await until(run, () => send(mutations.me, {}, token)))).toEqual(["UNAUTHENTICATED"]);
  }
  expect(run.loggedOut.length).toBeGreaterThan(0);
}, 120_000);
