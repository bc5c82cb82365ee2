import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore } from "../src/store/redis-store.js";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../src/db/embedded-postgres.js";
import { applyMigrations } from "../src/db/migrate.js";
import { createDatabase, type Database } from "../src/db/prisma.js";
import { createLogger } from "../src/observability/logger.js";
import { temporaryDataDir, type TemporaryDataDir } from "../harness/data-dir.js";
import { useTestDatabase } from "./helpers/database.js";
import { signalPostgresCluster } from "./helpers/frozen.js";
import { errorCodes, mutations, type GraphQLResponse } from "../harness/graphql.js";
import { capturedLogger } from "./helpers/log.js";
import { freePort } from "../harness/process.js";
import { startRedis, stopRedis } from "./helpers/redis-server.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

// A hung server (SIGSTOP: connections stay open, nothing answers) is worse than a stopped one:
// without timeouts every request waits as long as the hang lasts.
const timeoutMs = 500;
// What a request may take beyond its configured bound on a busy shared machine; far below a hang.
const slack = 3_000;

async function timed(request: () => Promise<GraphQLResponse>) {
  const started = performance.now();
  const response = await request();
  return { response, ms: performance.now() - started };
}

describe("when Redis hangs", () => {
  const database = useTestDatabase();
  let redis: ChildProcess;
  let store: RedisStore;
  let server: TestServer;
  beforeAll(async () => {
    const port = await freePort();
    redis = await startRedis(port);
    store = await RedisStore.connect(`redis://127.0.0.1:${port}`, "hung:", timeoutMs);
    server = await startTestServer({ databaseUrl: database().url, store });
  });
  afterAll(async () => {
    if (redis.pid) redis.kill("SIGCONT");
    await server?.close();
    await store?.close();
    await stopRedis(redis);
  });

  it("answers SERVICE_UNAVAILABLE within the command timeout, and serves again once it resumes", async () => {
    const { accessToken } = await server.app.services.accounts.register(newAccount());
    redis.kill("SIGSTOP");
    try {
      const { response, ms } = await timed(() => server.request(mutations.me, {}, { token: accessToken }));
      expect(errorCodes(response)).toEqual(["SERVICE_UNAVAILABLE"]);
      expect(ms).toBeLessThan(timeoutMs + slack);
      expect((await fetch(`${server.baseUrl}/health/ready`)).status).toBe(503);
    } finally {
      redis.kill("SIGCONT");
    }
    await expect
      .poll(async () => errorCodes(await server.request(mutations.me, {}, { token: accessToken })), {
        timeout: 10_000,
        interval: 100,
      })
      .toEqual([]);
  });
});

describe("when PostgreSQL hangs", () => {
  const { logger, lines } = capturedLogger();
  let dataDir: TemporaryDataDir;
  let postgres: EmbeddedDatabase;
  let database: Database;
  let server: TestServer;
  beforeAll(async () => {
    dataDir = await temporaryDataDir("users-subgraph-hung-");
    postgres = await startEmbeddedPostgres(dataDir.dir, createLogger("silent"));
    await applyMigrations(postgres.url);
    database = createDatabase(postgres.url, {
      poolSize: 4,
      timeouts: { statementMs: timeoutMs, connectMs: timeoutMs },
    });
    server = await startTestServer({
      databaseUrl: postgres.url,
      database,
      logger,
      config: { DEPENDENCY_ERROR_LOG_INTERVAL: "1s" },
    });
  });
  afterAll(async () => {
    await signalPostgresCluster(postgres.dataDir, "SIGCONT").catch(() => {});
    await server?.close();
    await database?.$disconnect();
    await postgres?.stop();
    await dataDir?.remove();
  });

  it("answers SERVICE_UNAVAILABLE within the statement and connect timeouts, logs it once per interval, and recovers", async () => {
    const account = newAccount();
    const { accessToken } = await server.app.services.accounts.register(account);
    const login = () =>
      server.request(mutations.login, { input: { usernameOrEmail: account.username, password: account.password } });
    expect((await login()).errors).toBeUndefined();

    await signalPostgresCluster(postgres.dataDir, "SIGSTOP");
    try {
      // More requests than the pool has connections: some wait for a connection, some for an answer.
      const outcomes = await Promise.all([
        ...Array.from({ length: 6 }, () => timed(() => server.request(mutations.me, {}, { token: accessToken }))),
        ...Array.from({ length: 6 }, () => timed(() => server.request(mutations.register, { input: newAccount() }))),
        timed(login),
      ]);
      for (const { response, ms } of outcomes) {
        expect(errorCodes(response)).toEqual(["SERVICE_UNAVAILABLE"]);
        // The statement's own timeout, PostgreSQL's cancel having no one to hear it, then the pool's wait.
        expect(ms).toBeLessThan(timeoutMs + 1_000 + timeoutMs + slack);
      }
      expect((await fetch(`${server.baseUrl}/health/ready`)).status).toBe(503);
    } finally {
      await signalPostgresCluster(postgres.dataDir, "SIGCONT");
    }
    await expect.poll(async () => errorCodes(await login()), { timeout: 10_000, interval: 100 }).toEqual([]);
    expect((await server.request(mutations.me, {}, { token: accessToken })).errors).toBeUndefined();

    // Thirteen failures, a few distinct causes: a line for the first of each, then their counts
    // (each cause's count comes at the end of its own interval: wait for all of them).
    const logged = () => lines.filter((line) => line.includes("dependency unavailable"));
    const accountedFor = () => {
      const entries = logged().map((line) => JSON.parse(line) as { repeated?: number });
      return entries.reduce((sum, entry) => sum + (entry.repeated ?? 1), 0);
    };
    await expect.poll(accountedFor, { timeout: 5_000 }).toBe(13);
    expect(logged().length).toBeLessThan(13);
  });
});
