import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect } from "vitest";
import { startExample, type RunningExample } from "../../examples/web/server/start.js";
import { createTestDatabase, type TestDatabase } from "../../test/helpers/database.js";
import { temporaryDataDir } from "../../harness/data-dir.js";
import { testRedisUrl } from "../../test/helpers/environment.js";
import { TestMailServer } from "../../test/helpers/mail.js";
import { freePort } from "../../harness/process.js";

export interface ExampleUnderTest extends RunningExample {
  mail: TestMailServer;
  ports: { app: number; gateway: number; subgraph: number };
}

/** Settings of the subgraph, or what makes them once the app's address is known (a provider's redirect URI). */
type ExampleSettings = NodeJS.ProcessEnv | ((appUrl: string) => Promise<NodeJS.ProcessEnv>);

/**
 * `npm run example` for the enclosing file, on a database, Redis prefix and ports of its own, its
 * mail going to an SMTP server in the test; `settings` change the subgraph's.
 */
export function useExample(settings: ExampleSettings = {}): () => ExampleUnderTest {
  let database: TestDatabase | undefined;
  let dataDir: Awaited<ReturnType<typeof temporaryDataDir>> | undefined;
  let mail: TestMailServer | undefined;
  let example: ExampleUnderTest | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await temporaryDataDir("users-e2e-");
    mail = await TestMailServer.start();
    const ports = { app: await freePort(), gateway: await freePort(), subgraph: await freePort() };
    const appUrl = `http://localhost:${ports.app}`;
    const running = await startExample({
      ports,
      settings: {
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl,
        REDIS_KEY_PREFIX: `e2e:${randomBytes(6).toString("hex")}:`,
        SMTP_URL: mail.url,
        DATA_DIR: dataDir.dir,
        LOG_LEVEL: "silent",
        ...(typeof settings === "function" ? await settings(appUrl) : settings),
      },
    });
    expect(running.appUrl).toBe(appUrl);
    example = { ...running, mail, ports };
  });
  afterAll(async () => {
    await example?.stop();
    await mail?.close();
    await dataDir?.remove();
    await database?.drop();
  });
  return () => example!;
}
