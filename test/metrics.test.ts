import { afterAll, beforeAll, expect, it } from "vitest";
import { createDatabase, onQuery, type Database } from "../src/db/prisma.js";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { mutations } from "../harness/graphql.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

let testDatabase: TestDatabase;
let database: Database;
let server: TestServer;
beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = createDatabase(testDatabase.url, { emitQueryEvents: true, poolSize: 5 });
  server = await startTestServer({ databaseUrl: testDatabase.url, database });
});
afterAll(async () => {
  await server.close();
  await database.$disconnect();
  await testDatabase.drop();
});

async function databaseQueries(): Promise<number> {
  return (await server.app.metrics.databaseQueries.get()).values[0]?.value ?? 0;
}

it("reports every SQL statement, transaction control included, and counts them in /metrics", async () => {
  const statements: string[] = [];
  onQuery(database, (event) => statements.push(event.query));

  const registered = await server.request(mutations.register, { input: newAccount() });
  expect(statements).toContain("BEGIN");
  expect(statements).toContain("COMMIT");

  statements.length = 0;
  const before = await databaseQueries();
  const me = await server.request(mutations.me, {}, { token: registered.data!.register.accessToken });
  expect(me.errors).toBeUndefined();
  expect(statements).toEqual([expect.stringMatching(/\bFROM\b.*"?users"?/i)]);
  expect((await databaseQueries()) - before).toBe(1);
  expect(await (await fetch(`${server.baseUrl}/metrics`)).text()).toMatch(/^database_queries_total \d+$/m);
});
