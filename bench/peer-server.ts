// The peer: better-auth with email and password, configured as its documentation shows for a
// Node server on PostgreSQL, and made comparable with the users subgraph — the same argon2id
// parameters through the same binding, the same pool size, no rate limiter, no cookie cache (so
// every get-session reads its session store, as every `me` reads the user) and a verification mail
// on sign-up, composed by nodemailer and written as an .eml file, as the subgraph's `register` does
// without SMTP_URL. Its sessions live where the subgraph keeps its revocation set: without
// REDIS_URL, in PostgreSQL beside its users; with REDIS_URL, only in that Redis, as better-auth's
// documented `secondaryStorage` under keys of its own (PEER_REDIS_KEY_PREFIX), each holding the
// session and a copy of its user, so that a get-session reads Redis alone. The bench's results
// record which. Compiled and run by plain `node`, like the subgraph's build, so that its memory is
// its own.
import { mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { betterAuth, type SecondaryStorage } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { Redis } from "ioredis";
import nodemailer from "nodemailer";
import pg from "pg";
import { peerArgon2id, peerPoolSize } from "./peer-settings.js";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error("DATABASE_URL is required");
const port = Number(process.env.PORT ?? 4003);
const baseURL = `http://127.0.0.1:${port}`;
const redisUrl = process.env.REDIS_URL;
const redisKeyPrefix = process.env.PEER_REDIS_KEY_PREFIX;
if (redisUrl && !redisKeyPrefix) throw new Error("PEER_REDIS_KEY_PREFIX is required with REDIS_URL");

/** INCR, and the counter's expiry set when INCR creates it, never pushed back: one atomic step. */
const incrementScript =
  "local count = redis.call('INCR', KEYS[1]) if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return count";

/** better-auth's `SecondaryStorage` on one Redis; the client's `keyPrefix` keeps the peer's keys apart. */
function redisStorage(redis: Redis): SecondaryStorage {
  return {
    get: (key) => redis.get(key),
    // A time to live is in seconds; none means the key stays, and zero means it has already expired.
    set: async (key, value, ttl) => {
      if (ttl === undefined) await redis.set(key, value);
      else if (ttl > 0) await redis.set(key, value, "EX", ttl);
      else await redis.del(key);
    },
    delete: async (key) => {
      await redis.del(key);
    },
    getAndDelete: (key) => redis.getdel(key),
    increment: async (key, ttl) => Number(await redis.eval(incrementScript, 1, key, ttl)),
  };
}

// `Algorithm` is a const enum, which isolated modules cannot read.
const argon2 = { algorithm: 2 as Algorithm.Argon2id, ...peerArgon2id };
const pool = new pg.Pool({ connectionString: databaseUrl, max: peerPoolSize });
const redis = redisUrl ? new Redis(redisUrl, { keyPrefix: redisKeyPrefix }) : undefined;
const closeStores = () => Promise.all([pool.end(), redis?.quit()]);
const mailDirectory = mkdtempSync(path.join(tmpdir(), "peer-mail-"));
const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
let mailsWritten = 0;
const auth = betterAuth({
  database: pool,
  secondaryStorage: redis && redisStorage(redis),
  baseURL,
  secret: "bench-only-secret-bench-only-secret-0123",
  emailAndPassword: {
    enabled: true,
    password: {
      hash: (password) => hash(password, argon2),
      verify: ({ hash: passwordHash, password }) => verify(passwordHash, password),
    },
  },
  emailVerification: {
    sendOnSignUp: true,
    sendVerificationEmail: async ({ user, url }) => {
      const { message } = await composer.sendMail({
        from: "peer <no-reply@localhost>",
        to: user.email,
        subject: "Confirm your e-mail address",
        text: `Hello ${user.name},\n\nconfirm your e-mail address: ${url}\n`,
        html: `<p>Hello ${user.name},</p><p><a href="${url}">Confirm your e-mail address</a></p>`,
      });
      await writeFile(path.join(mailDirectory, `${Date.now()}-${mailsWritten++}.eml`), message as Buffer, {
        mode: 0o600,
      });
    },
  },
  rateLimit: { enabled: false },
  session: { cookieCache: { enabled: false } },
  telemetry: { enabled: false },
  logger: { level: "error" },
});

process.on("exit", () => rmSync(mailDirectory, { recursive: true, force: true }));

if (process.env.PEER_MIGRATE === "only") {
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  await closeStores();
  process.exit(0);
}

const server = createServer(toNodeHandler(auth));
server.listen(port, "127.0.0.1");

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => server.close(() => closeStores().then(() => process.exit(0))));
}
