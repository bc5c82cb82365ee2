import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { mutations } from "./helpers/graphql.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

let database: TestDatabase;
let server: TestServer;
beforeAll(async () => {
  database = await createTestDatabase();
  server = await startTestServer({ databaseUrl: database.url });
});
afterAll(async () => {
  await server.close();
  await database.drop();
});

it("tells every cache not to keep GraphQL answers, GET and POST alike", async () => {
  const post = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: mutations.me }),
  });
  const get = await fetch(`${server.url}?query=${encodeURIComponent("{ __typename }")}`, {
    headers: { "apollo-require-preflight": "true" },
  });
  for (const response of [post, get]) {
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
  }
});
