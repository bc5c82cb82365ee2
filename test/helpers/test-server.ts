import { afterAll, beforeAll } from "vitest";
import { createTestDatabase, type TestDatabase } from "./database.js";
import { startTestServer, type TestServer, type TestServerOptions } from "./server.js";

/**
 * A server on a database of its own for the enclosing file or `describe`: started before its tests,
 * closed and dropped after them. Call the returned function for the running server.
 */
export function useTestServer(options: Omit<TestServerOptions, "databaseUrl"> = {}): () => TestServer {
  let database: TestDatabase | undefined;
  let server: TestServer | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    server = await startTestServer({ ...options, databaseUrl: database.url });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });
  return () => server!;
}
