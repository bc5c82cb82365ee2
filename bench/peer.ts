// `npm run bench -- --peers`: better-auth beside the subgraph, on a database of its own in the same
// PostgreSQL (and with REDIS_URL its sessions under keys of its own in the same Redis), asked the
// same things through its own routes.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { newAccount } from "../harness/accounts.js";
import { projectRoot } from "../harness/process.js";
import { benchPostgres, scratchDatabase, scratchKeyPrefix } from "./databases.js";
import type { HttpCall } from "./load.js";
import { peerArgon2id, peerPoolSize } from "./peer-settings.js";
import { productionEnvironment } from "./processes.js";

/** Where the peer keeps its sessions: in Redis whenever the subgraph keeps its revocation set there. */
export const peerSessionStore = (): "REDIS_URL" | "PostgreSQL" => (process.env.REDIS_URL ? "REDIS_URL" : "PostgreSQL");

export async function peerDescription(): Promise<string> {
  const { version } = JSON.parse(
    await readFile(path.join(projectRoot, "node_modules", "better-auth", "package.json"), "utf8"),
  );
  return (
    `better-auth ${version}: email + password on a pg Pool (max ${peerPoolSize}) in a database of its own on the same PostgreSQL; ` +
    (peerSessionStore() === "REDIS_URL"
      ? "sessions only in the Redis of REDIS_URL, as better-auth's secondaryStorage (ioredis, keys of its own), each with a copy of its user; "
      : "sessions in PostgreSQL; ") +
    `argon2id m=${peerArgon2id.memoryCost} KiB, t=${peerArgon2id.timeCost}, p=${peerArgon2id.parallelism} through @node-rs/argon2 ` +
    "(on libuv's thread pool); rate limiter off; cookie cache off, so every get-session reads the session store; " +
    "a verification mail on sign-up, composed by nodemailer and written as an .eml file, as the subgraph's register does without SMTP_URL; " +
    `its tables made beforehand; both servers compiled, run by node with ${Object.entries(productionEnvironment)
      .map(([name, value]) => `${name}=${value}`)
      .join(" ")}`
  );
}

export interface BenchDatabases {
  subgraphUrl: string;
  peerUrl: string;
  /** With REDIS_URL: the Redis of the peer's sessions, and the prefix of its keys there. */
  peerRedis?: { url: string; keyPrefix: string };
  remove(): Promise<void>;
}

/**
 * One PostgreSQL for both servers, a database each: DATABASE_URL's server, or else an embedded one
 * started here (the subgraph's own embedded database would live and die with its process). With
 * REDIS_URL, a key prefix for the peer's sessions, whose keys are removed with its database:
 * they would otherwise outlive the run by a week.
 */
export async function benchDatabases(dataDir: string): Promise<BenchDatabases> {
  const postgres = await benchPostgres(dataDir);
  const peer = await scratchDatabase(postgres.url, "bench_peer");
  const redisUrl = peerSessionStore() === "REDIS_URL" ? process.env.REDIS_URL : undefined;
  const peerRedis = redisUrl ? scratchKeyPrefix(redisUrl, "bench-peer") : undefined;
  return {
    subgraphUrl: postgres.url,
    peerUrl: peer.url,
    peerRedis,
    remove: async () => {
      await peer.drop();
      await postgres.stop();
      await peerRedis?.drop();
    },
  };
}

/** better-auth answers 200 with `null` for a session it does not know. */
export const peerSucceeded = (status: number, body: string) => status === 200 && body !== "null";

export interface PeerUser {
  email: string;
  password: string;
  /** The signed session cookie, as a browser would send it. */
  cookie: string;
}

/** better-auth refuses a POST a browser could have sent cross-site: it must name its origin. */
const postHeaders = (baseUrl: string) => ({ "content-type": "application/json", origin: baseUrl });

function signUpCall(baseUrl: string, account = newAccount("peer")): HttpCall {
  return {
    method: "POST",
    path: "/api/auth/sign-up/email",
    headers: postHeaders(baseUrl),
    body: JSON.stringify({ email: account.email, password: account.password, name: account.username }),
  };
}

/** Accounts made the way its clients make them: sign-up over HTTP, four at a time like the subgraph's. */
export async function seedPeer(baseUrl: string, count: number): Promise<PeerUser[]> {
  const seeded: PeerUser[] = [];
  const concurrency = 4;
  for (let start = 0; start < count; start += concurrency) {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count - start) }, async () => {
        const account = newAccount("peer");
        const call = signUpCall(baseUrl, account);
        const response = await fetch(`${baseUrl}${call.path}`, call);
        if (!response.ok) throw new Error(`peer sign-up failed: ${response.status} ${await response.text()}`);
        const cookie = response.headers.getSetCookie().find((value) => value.startsWith("better-auth.session_token="));
        if (!cookie) throw new Error("peer sign-up set no session cookie");
        seeded.push({ email: account.email, password: account.password, cookie: cookie.split(";")[0]! });
      }),
    );
  }
  return seeded;
}

/** The peer's requests for `me`, `login` and `register`. */
export function peerCalls(baseUrl: string) {
  return {
    getSession: (user: PeerUser): HttpCall => ({
      method: "GET",
      path: "/api/auth/get-session",
      headers: { cookie: user.cookie },
    }),
    signIn: ({ email, password }: PeerUser): HttpCall => ({
      method: "POST",
      path: "/api/auth/sign-in/email",
      headers: postHeaders(baseUrl),
      body: JSON.stringify({ email, password }),
    }),
    /** A new account for every request. */
    signUp: (): HttpCall => signUpCall(baseUrl),
  };
}
