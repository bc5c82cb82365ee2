import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { exportPrivateJwks, generateSigningKey } from "../src/auth/signing-keys.js";
import { loadConfig } from "../src/config/config.js";
import { applyMigrations, migrationNames } from "../src/db/migrate.js";
import { createLogger } from "../src/observability/logger.js";
import { startServer, type RunningServer } from "../src/server.js";
import { StartupError } from "../src/startup-error.js";
import { testPostgresUrl, testRedisUrl } from "./helpers/environment.js";
import { errorCodes, graphql, mutations } from "../harness/graphql.js";
import { capturedLogger } from "./helpers/log.js";
import { freePort, run } from "../harness/process.js";
import { fastHasher } from "./helpers/server.js";

/** A database URL on the test server, the database itself created (unmigrated) or not. */
async function databaseUrl(create: boolean): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `users_unready_${randomBytes(6).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: testPostgresUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  if (create) await admin(`CREATE DATABASE ${name}`);
  const url = new URL(testPostgresUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function productionEnvironment(overrides: Record<string, string>): Promise<Record<string, string>> {
  return {
    NODE_ENV: "production",
    PORT: "0",
    HOST: "127.0.0.1",
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: `test:${randomBytes(6).toString("hex")}:`,
    JWT_PRIVATE_KEYS: await exportPrivateJwks([await generateSigningKey()]),
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
    SMTP_URL: "smtp://127.0.0.1:1",
    MAIL_FROM: "no-reply@example.com",
    APP_URL: "https://app.example.com",
    WEBAUTHN_RP_ID: "app.example.com",
    WEBAUTHN_ORIGINS: "https://app.example.com",
    ...overrides,
  };
}

const readiness = async (server: RunningServer) => {
  const response = await fetch(`http://127.0.0.1:${server.port}/health/ready`);
  return {
    status: response.status,
    body: (await response.json()) as { checks: Record<string, string>; failing: string[] },
  };
};
const login = (server: RunningServer) =>
  graphql(server.url.replace("localhost", "127.0.0.1"), mutations.login, {
    input: { usernameOrEmail: "someone", password: "whatever it is" },
  });

describe("production on a database it cannot use yet", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("with migrations pending: says so, is not ready, answers SERVICE_UNAVAILABLE, and is ready once they are applied", async () => {
    const database = await databaseUrl(true);
    cleanups.push(database.drop);
    const { logger, lines } = capturedLogger();
    const log = () => lines.join("");
    const server = await startServer(loadConfig(await productionEnvironment({ DATABASE_URL: database.url })), logger, {
      hasher: fastHasher,
    });
    cleanups.push(server.stop);
    const migrations = await migrationNames();
    expect(log()).toContain(
      `lacks ${migrations.length} migration(s): not ready until node dist/cli/migrate.js applies them`,
    );

    const before = await readiness(server);
    expect(before.status).toBe(503);
    expect(before.body.checks).toMatchObject({ postgres: "ok", migrations: "pending" });
    expect(before.body.failing).toEqual(["migrations"]);
    expect(errorCodes(await login(server))).toEqual(["SERVICE_UNAVAILABLE"]);

    await applyMigrations(database.url); // what node dist/cli/migrate.js does
    const after = await readiness(server);
    expect(after.status).toBe(200);
    expect(errorCodes(await login(server))).toEqual(["INVALID_CREDENTIALS"]);
  });

  it("when the database does not exist: says so, is not ready, answers SERVICE_UNAVAILABLE", async () => {
    const missing = await databaseUrl(false);
    const { logger, lines } = capturedLogger();
    const log = () => lines.join("");
    const server = await startServer(loadConfig(await productionEnvironment({ DATABASE_URL: missing.url })), logger, {
      hasher: fastHasher,
    });
    cleanups.push(server.stop);
    expect(log()).toMatch(/PostgreSQL at 127\.0\.0\.1:\d+\/users_unready_\w+ \(DATABASE_URL\) does not answer/);
    expect(log()).not.toContain(new URL(testPostgresUrl).password || "\0");

    const ready = await readiness(server);
    expect(ready.status).toBe(503);
    expect(ready.body.failing).toContain("postgres");
    expect(errorCodes(await login(server))).toEqual(["SERVICE_UNAVAILABLE"]);
    const user = await graphql(
      server.url.replace("localhost", "127.0.0.1"),
      '{ user(id: "6d1f0f6e-0000-4000-8000-000000000000") { id } }',
    );
    expect(errorCodes(user)).toEqual(["SERVICE_UNAVAILABLE"]);
  });
});

describe("start-up errors", () => {
  it("name Redis and REDIS_URL, with the cause and without the password, in one line", async () => {
    const database = await databaseUrl(true);
    try {
      const closedPort = await freePort();
      const config = loadConfig(
        await productionEnvironment({
          DATABASE_URL: database.url,
          REDIS_URL: `redis://:s3cret-redis@127.0.0.1:${closedPort}`,
        }),
      );
      const failure = await startServer(config, createLogger("silent"), { hasher: fastHasher }).catch(
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(StartupError);
      expect((failure as Error).message).toMatch(
        new RegExp(`^Redis at 127\\.0\\.0\\.1:${closedPort} \\(REDIS_URL\\) is unreachable: .*ECONNREFUSED`),
      );
      expect((failure as Error).message).not.toContain("s3cret");

      // The process prints it as one line, no stack trace.
      const { code, output } = await run("node", ["--import", "tsx", "src/main.ts"], {
        ...(await productionEnvironment({
          DATABASE_URL: database.url,
          REDIS_URL: `redis://:s3cret-redis@127.0.0.1:${closedPort}`,
        })),
      });
      expect(code).toBe(1);
      expect(output).toMatch(/could not start: Redis at 127\.0\.0\.1:\d+ \(REDIS_URL\) is unreachable/);
      expect(output).not.toMatch(/\n\s+at |s3cret/);
    } finally {
      await database.drop();
    }
  });
});

it("node dist/cli/migrate.js exits as soon as it has applied the migrations", async () => {
  const database = await databaseUrl(true);
  try {
    let printedAt = 0;
    const started = Date.now();
    const child = spawn("node", ["--import", "tsx", "src/cli/migrate.ts"], {
      env: { PATH: process.env.PATH, DATABASE_URL: database.url },
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
      printedAt ||= Date.now();
    });
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code, output).toBe(0);
    expect(output).toMatch(/^Applied: \d+_init/);
    // It used to print at once, then wait ~10 s for a timer of the WebAssembly engine; on a busy
    // machine a prompt exit still takes a few seconds.
    expect(Date.now() - printedAt, `printed after ${printedAt - started} ms`).toBeLessThan(6_000);
  } finally {
    await database.drop();
  }
});
