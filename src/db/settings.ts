// The settings that send reads that may lag to PostgreSQL streaming replicas.
import { z } from "zod";
import type { ReadReplicaSettings } from "./read-replicas.js";

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

/**
 * The read replicas' group of the configuration. DATABASE_REPLICA_MAX_LAG is a duration, which the
 * configuration parses as it parses every other.
 */
export const databaseReplicaGroup = {
  /** Its variables, parsed. */
  variables: { DATABASE_REPLICA_URLS: postgresUrls },

  /** The settings the variables make. */
  settings(env: { DATABASE_REPLICA_URLS: string[]; DATABASE_REPLICA_MAX_LAG: number }): ReadReplicaSettings {
    return { urls: env.DATABASE_REPLICA_URLS, maxLagSeconds: env.DATABASE_REPLICA_MAX_LAG };
  },
};
