import { randomInt } from "node:crypto";
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

describe("the settings of a Redis Cluster, Sentinels and read replicas", () => {
  it("reads Cluster nodes, IPv6 ones in brackets, with REDIS_URL lending its credentials", () => {
    const config = loadConfig({
      REDIS_URL: "rediss://user:secret@ignored:6379",
      REDIS_CLUSTER_NODES: "redis-1:7000, [fd00::1]:7001,10.0.0.3:7002",
    });
    expect(config.redis).toEqual({
      url: "rediss://user:secret@ignored:6379",
      clusterNodes: [
        { host: "redis-1", port: 7000 },
        { host: "fd00::1", port: 7001 },
        { host: "10.0.0.3", port: 7002 },
      ],
      sentinels: undefined,
    });
  });

  it("reads Sentinels with the name of their master, and replicas with their allowed lag", () => {
    const config = loadConfig({
      REDIS_SENTINELS: "sentinel-1:26379,sentinel-2:26379",
      REDIS_SENTINEL_NAME: "users",
      DATABASE_REPLICA_URLS: "postgres://replica-1/users, postgresql://replica-2/users",
      DATABASE_REPLICA_MAX_LAG: "2s",
    });
    expect(config.redis.sentinels).toEqual({
      name: "users",
      nodes: [
        { host: "sentinel-1", port: 26379 },
        { host: "sentinel-2", port: 26379 },
      ],
    });
    expect(config.databaseReplicas).toEqual({
      urls: ["postgres://replica-1/users", "postgresql://replica-2/users"],
      maxLagSeconds: 2,
    });
    expect(loadConfig({}).databaseReplicas).toEqual({ urls: [], maxLagSeconds: 10 });
  });

  it("in production, takes a Cluster or Sentinels instead of REDIS_URL, and asks for one of the three otherwise", () => {
    const withoutRedis = problemsOf({ NODE_ENV: "production" });
    expect(withoutRedis.filter((problem) => problem.startsWith("REDIS_URL "))).toEqual([
      "REDIS_URL is required in production (or REDIS_CLUSTER_NODES, or REDIS_SENTINELS)",
    ]);
    for (const topology of [
      { REDIS_CLUSTER_NODES: "redis-1:7000" },
      { REDIS_SENTINELS: "sentinel-1:26379", REDIS_SENTINEL_NAME: "users" },
    ]) {
      const problems = problemsOf({ NODE_ENV: "production", ...topology });
      expect(problems.filter((problem) => problem.startsWith("REDIS"))).toEqual([]);
      expect(problems).toHaveLength(withoutRedis.length - 1);
    }
  });

  it("refuses what could not work, in any environment, naming every malformed value at once", () => {
    for (const NODE_ENV of ["development", "production"]) {
      const problems = problemsOf({
        NODE_ENV,
        REDIS_CLUSTER_NODES: "redis-1:7000,redis-2,redis-3:0,redis-4:70000",
        DATABASE_REPLICA_URLS: "postgres://replica-1/users,mysql://replica-2/users",
      });
      expect(problems).toEqual([
        "DATABASE_REPLICA_URLS must be postgres:// or postgresql:// URLs separated by commas",
        'REDIS_CLUSTER_NODES must be comma-separated host:port entries like redis-1:6379,[fd00::1]:6379 (got "redis-2", "redis-3:0", "redis-4:70000")',
      ]);
      expect(problemsOf({ NODE_ENV, REDIS_SENTINELS: "sentinel-1:26379" })).toContain(
        "REDIS_SENTINEL_NAME is required with REDIS_SENTINELS: the name of the master they watch",
      );
    }
    expect(
      problemsOf({ REDIS_CLUSTER_NODES: "redis-1:7000", REDIS_SENTINELS: "s:26379", REDIS_SENTINEL_NAME: "users" }),
    ).toEqual([
      "REDIS_SENTINELS cannot be set with REDIS_CLUSTER_NODES: Redis is either a Cluster or behind Sentinels",
    ]);
    expect(problemsOf({ REDIS_SENTINEL_NAME: "users" })).toEqual([
      "REDIS_SENTINEL_NAME is used only with REDIS_SENTINELS",
    ]);
    expect(problemsOf({ REDIS_CLUSTER_NODES: " , ," })).toEqual([
      "REDIS_CLUSTER_NODES must be comma-separated host:port entries like redis-1:6379,[fd00::1]:6379 (got none)",
    ]);
  });

  it("either reads a fuzzed node list into valid hosts and ports or names REDIS_CLUSTER_NODES (1000 trials)", () => {
    const hosts = ["redis-1", "10.0.0.3", "[fd00::1]", "fd00::1", "[::]", "", " ", "a b", "{tag}", "[x]", "h@st"];
    const ports = ["6379", "1", "65535", "0", "65536", "-1", "", "63 79", "6379:1", "07000"];
    const pick = (list: string[]) => list[randomInt(list.length)]!;
    let read = 0;
    for (let trial = 0; trial < 1000; trial++) {
      const entries = Array.from(
        { length: randomInt(1, 4) },
        () => `${pick(hosts)}${pick([":", ":", ""])}${pick(ports)}`,
      );
      const text = entries.join(pick([",", ", ", ",,"]));
      const problems = problemsOf({ REDIS_CLUSTER_NODES: text });
      if (problems.length > 0) {
        expect(problems, text).toHaveLength(1);
        expect(problems[0], text).toMatch(/^REDIS_CLUSTER_NODES must be comma-separated host:port entries/);
        continue;
      }
      const nodes = loadConfig({ REDIS_CLUSTER_NODES: text }).redis.clusterNodes;
      // An empty variable is an unset one.
      if (text === "") expect(nodes).toBeUndefined();
      else read++;
      for (const { host, port } of nodes ?? []) {
        expect(host, text).toMatch(/^[^\s,[\]]+$/);
        expect(Number.isInteger(port) && port >= 1 && port <= 65535, text).toBe(true);
      }
    }
    expect(read).toBeGreaterThan(0);
  });
});
