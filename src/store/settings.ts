// The settings that put the store on a Redis Cluster or behind Sentinels rather than one server.
import { z } from "zod";
import type { HostAndPort, RedisTarget } from "./redis-connection.js";

/** `host:port`, an IPv6 host in brackets. */
function parseHostAndPort(entry: string): HostAndPort | null {
  const match = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(entry) ?? /^([^\s:[\]]+):(\d{1,5})$/.exec(entry);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) return null;
  return { host: match[1]!, port };
}

/** Comma-separated `host:port` entries; absent when unset. */
const hostsAndPorts = z
  .string()
  .transform((text, ctx) => {
    const entries = text
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry !== "");
    const parsed = entries.map(parseHostAndPort);
    const malformed = entries.filter((_entry, index) => parsed[index] === null);
    if (entries.length === 0 || malformed.length > 0) {
      ctx.addIssue({
        code: "custom",
        message: `must be comma-separated host:port entries like redis-1:6379,[fd00::1]:6379 (got ${
          malformed.map((entry) => `"${entry}"`).join(", ") || "none"
        })`,
      });
      return z.NEVER;
    }
    return parsed as HostAndPort[];
  })
  .optional();

interface RedisVariables {
  REDIS_URL?: string;
  REDIS_CLUSTER_NODES?: HostAndPort[];
  REDIS_SENTINELS?: HostAndPort[];
  REDIS_SENTINEL_NAME?: string;
}

/**
 * The store's group of the configuration: where its Redis is. REDIS_URL is a URL, which the
 * configuration parses as it parses every other.
 */
export const redisGroup = {
  /** Its variables, parsed. */
  variables: {
    REDIS_CLUSTER_NODES: hostsAndPorts,
    REDIS_SENTINELS: hostsAndPorts,
    REDIS_SENTINEL_NAME: z.string().trim().min(1).optional(),
  },

  /** The Redis the settings name; none named: the in-process store. */
  settings(env: RedisVariables): RedisTarget {
    return {
      url: env.REDIS_URL,
      clusterNodes: env.REDIS_CLUSTER_NODES,
      sentinels: env.REDIS_SENTINELS && { nodes: env.REDIS_SENTINELS, name: env.REDIS_SENTINEL_NAME! },
    };
  },

  /** Everywhere: one topology at a time, and Sentinels with the name of the master they watch. */
  check(env: RedisVariables, ctx: z.RefinementCtx): void {
    const problem = (name: keyof RedisVariables, message: string) =>
      ctx.addIssue({ code: "custom", path: [name], message });
    if (env.REDIS_CLUSTER_NODES && env.REDIS_SENTINELS) {
      problem(
        "REDIS_SENTINELS",
        "cannot be set with REDIS_CLUSTER_NODES: Redis is either a Cluster or behind Sentinels",
      );
    }
    if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME) {
      problem("REDIS_SENTINEL_NAME", "is required with REDIS_SENTINELS: the name of the master they watch");
    }
    if (env.REDIS_SENTINEL_NAME && !env.REDIS_SENTINELS) {
      problem("REDIS_SENTINEL_NAME", "is used only with REDIS_SENTINELS");
    }
  },

  /** Instances share the store in production: a Redis is required, whichever way it is reached. */
  checkForProduction(env: RedisVariables, ctx: z.RefinementCtx): void {
    if (env.REDIS_URL || env.REDIS_CLUSTER_NODES || env.REDIS_SENTINELS) return;
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_URL"],
      message: "is required in production (or REDIS_CLUSTER_NODES, or REDIS_SENTINELS)",
    });
  },
};
