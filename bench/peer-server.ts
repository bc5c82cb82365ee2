// The peer: better-auth with email and password, configured as its documentation shows for a
// Node server on PostgreSQL, and made comparable with the users subgraph — the same argon2id
// parameters through the same binding, the same pool size, no rate limiter, no cookie cache (so
// every get-session reads the database, as every `me` reads the user). Compiled and run by plain
// `node`, like the subgraph's build, so that its memory is its own.
import { createServer } from "node:http";
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import pg from "pg";
import { peerArgon2id, peerPoolSize } from "./peer-settings.js";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error("DATABASE_URL is required");
const port = Number(process.env.PORT ?? 4003);
const baseURL = `http://127.0.0.1:${port}`;

// `Algorithm` is a const enum, which isolated modules cannot read.
const argon2 = { algorithm: 2 as Algorithm.Argon2id, ...peerArgon2id };
const pool = new pg.Pool({ connectionString: databaseUrl, max: peerPoolSize });
const auth = betterAuth({
  database: pool,
  baseURL,
  secret: "bench-only-secret-bench-only-secret-0123",
  emailAndPassword: {
    enabled: true,
    password: {
      hash: (password) => hash(password, argon2),
      verify: ({ hash: passwordHash, password }) => verify(passwordHash, password),
    },
  },
  rateLimit: { enabled: false },
  session: { cookieCache: { enabled: false } },
  telemetry: { enabled: false },
  logger: { level: "error" },
});

if (process.env.PEER_MIGRATE === "only") {
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  await pool.end();
  process.exit(0);
}

const server = createServer(toNodeHandler(auth));
server.listen(port, "127.0.0.1");

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => server.close(() => pool.end().then(() => process.exit(0))));
}
