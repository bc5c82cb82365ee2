import { randomBytes, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { migrationsDir } from "../src/db/migrate.js";
import { foldIdentifier } from "../src/users/identity.js";
import { testPostgresUrl } from "./helpers/environment.js";

// The migration that folds stored e-mail addresses, run over rows an older version stored
// (trimmed and lower-cased, not NFKC-folded).
const name = `users_test_${randomBytes(6).toString("hex")}`;
let client: pg.Client;
const admin = async (sql: string) => {
  const connection = new pg.Client({ connectionString: testPostgresUrl });
  await connection.connect();
  await connection.query(sql).finally(() => connection.end());
};
const migration = (folder: string) => readFile(path.join(migrationsDir, folder, "migration.sql"), "utf8");

beforeAll(async () => {
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(testPostgresUrl);
  url.pathname = `/${name}`;
  client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(await migration("20261125101346_init"));
});
afterAll(async () => {
  await client.end();
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

it("folds stored addresses as logins look them up, leaving alone those it cannot merge", async () => {
  const rows = [
    { email: "ｆoo@example.com", folded: "foo@example.com" }, // fullwidth f: folds
    { email: "ｂａｒ@example.com", folded: "ｂａｒ@example.com" }, // folds to an address already taken: kept
    { email: "bar@example.com", folded: "bar@example.com" },
    { email: "ｂａｚ@example.com", folded: "baz@example.com" }, // two unfolded rows folding alike: the older folds
    { email: "ｂaｚ@example.com", folded: "ｂaｚ@example.com" },
    { email: "plain@example.com", folded: "plain@example.com" },
  ];
  for (const [index, row] of rows.entries()) {
    await client.query(
      `INSERT INTO users (id, email, username, username_key, password_hash, created_at, updated_at)
       VALUES ($1, $2, $3, $3, 'hash', now() + make_interval(secs => $4), now())`,
      [randomUUID(), row.email, `user${index}`, index],
    );
  }
  const ours = (await readdir(migrationsDir)).find((entry) => entry.endsWith("_session_credentials_and_reuse"))!;
  await client.query(await migration(ours));

  const { rows: stored } = await client.query<{ email: string }>("SELECT email FROM users ORDER BY created_at");
  expect(stored.map((row) => row.email)).toEqual(rows.map((row) => row.folded));
  // Where it folded, it wrote what the application's one folding function computes.
  for (const [index, row] of rows.entries()) {
    if (stored[index]!.email !== row.email) expect(stored[index]!.email).toBe(foldIdentifier(row.email));
  }
});
