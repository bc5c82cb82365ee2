import { afterAll, beforeAll } from "vitest";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { applyMigrations } from "../../src/db/migrate.js";
import { testPostgresUrl } from "./environment.js";

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testPostgresUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A database of its own for one test file, migrated by the same code production uses (unless `migrated: false`). */
export async function createTestDatabase({ migrated = true } = {}): Promise<TestDatabase> {
  const name = `users_test_${randomBytes(6).toString("hex")}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(testPostgresUrl);
  url.pathname = `/${name}`;
  if (migrated) await applyMigrations(url.toString());
  return {
    url: url.toString(),
    drop: () => admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

/** A database of its own for the enclosing file or `describe`, dropped after its tests. */
export function useTestDatabase(): () => TestDatabase {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());
  return () => database!;
}
