// The settings that send reads that may lag to PostgreSQL streaming replicas.
import { z } from "zod";
import type { ReadReplicaSettings } from "../db/read-replicas.js";
import { duration } from "./parsers.js";

const postgresUrl = (entry: string) => {
  try {
    return ["postgres:", "postgresql:"].includes(new URL(entry).protocol);
  } catch {
    return false;
  }
};

/** Comma-separated PostgreSQL URLs; empty when unset. */
const postgresUrls = z
  .string()
  .default("")
  .transform((text, ctx) => {
    const urls = text
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry !== "");
    if (urls.some((entry) => !postgresUrl(entry))) {
      ctx.addIssue({ code: "custom", message: "must be postgres:// or postgresql:// URLs separated by commas" });
      return z.NEVER;
    }
    return urls;
  });

export const databaseReplicaSettings = {
  DATABASE_REPLICA_URLS: postgresUrls,
  DATABASE_REPLICA_MAX_LAG: duration("10s"),
};

export function databaseReplicas(env: {
  DATABASE_REPLICA_URLS: string[];
  DATABASE_REPLICA_MAX_LAG: number;
}): ReadReplicaSettings {
  return { urls: env.DATABASE_REPLICA_URLS, maxLagSeconds: env.DATABASE_REPLICA_MAX_LAG };
}
