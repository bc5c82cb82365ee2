import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/config.js";

function problemsOf(environment: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("configuration", () => {
  it("runs on embedded defaults with an empty environment", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: "development",
      port: 4001,
      databaseUrl: undefined,
      redisUrl: undefined,
      introspection: true,
      migrateOnStart: true,
      logLevel: "info",
      loginAttemptsPerWindow: undefined,
      jwt: { accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 30 * 86400, refreshReuseIntervalSeconds: 10, privateKeys: undefined },
    });
    expect(config.dataDir.endsWith(".data")).toBe(true);
  });

  it("reads every documented setting", () => {
    const config = loadConfig({
      PORT: "5000",
      DATABASE_URL: "postgresql://u:p@db:5432/users",
      REDIS_URL: "redis://cache:6379",
      DATA_DIR: "/tmp/somewhere",
      ACCESS_TOKEN_TTL: "5m",
      REFRESH_TOKEN_TTL: "7d",
      REFRESH_REUSE_INTERVAL: "0s",
      LOG_LEVEL: "warn",
      LOGIN_ATTEMPTS_PER_WINDOW: "50",
    });
    expect(config).toMatchObject({
      port: 5000,
      databaseUrl: "postgresql://u:p@db:5432/users",
      redisUrl: "redis://cache:6379",
      dataDir: "/tmp/somewhere",
      logLevel: "warn",
      loginAttemptsPerWindow: 50,
      jwt: { accessTokenTtlSeconds: 300, refreshTokenTtlSeconds: 7 * 86400, refreshReuseIntervalSeconds: 0 },
    });
  });

  it("in production, lists every missing required setting at once", () => {
    const problems = problemsOf({ NODE_ENV: "production" });
    expect(problems).toHaveLength(4);
    for (const name of ["DATABASE_URL", "REDIS_URL", "JWT_PRIVATE_KEYS", "ENCRYPTION_KEYS"]) {
      expect(problems.some((problem) => problem.startsWith(`${name} `))).toBe(true);
    }
    const config = loadConfig({
      NODE_ENV: "production",
      DATABASE_URL: "postgres://db/users",
      REDIS_URL: "redis://cache",
      JWT_PRIVATE_KEYS: '{"keys":[]}',
      ENCRYPTION_KEYS: "k1:key",
    });
    expect(config.introspection).toBe(false);
    expect(config.migrateOnStart).toBe(false);
  });

  it("reports every malformed value, not only the first", () => {
    const problems = problemsOf({
      PORT: "eighty",
      ACCESS_TOKEN_TTL: "soon",
      DATABASE_URL: "mysql://x",
      LOG_LEVEL: "loud",
      LOGIN_ATTEMPTS_PER_WINDOW: "0",
    });
    expect(problems).toHaveLength(5);
    expect(problems.join("\n")).toMatch(/PORT/);
    expect(problems.join("\n")).toMatch(/ACCESS_TOKEN_TTL/);
    expect(problems.join("\n")).toMatch(/DATABASE_URL/);
    expect(problems.join("\n")).toMatch(/LOG_LEVEL/);
    expect(problems.join("\n")).toMatch(/LOGIN_ATTEMPTS_PER_WINDOW/);
  });
});
