import { afterAll, beforeAll } from "vitest";
import { useTestDatabase } from "./database.js";
import { startTestServer, type TestServer, type TestServerOptions } from "./server.js";

/**
 * A server on a database of its own for the enclosing file or `describe`: started before its tests,
 * closed and dropped after them. Call the returned function for the running server.
 */
export function useTestServer(options: Omit<TestServerOptions, "databaseUrl"> = {}): () => TestServer {
  const database = useTestDatabase();
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer({ ...options, databaseUrl: database().url });
  });
  afterAll(() => server?.close());
  return () => server!;
}
