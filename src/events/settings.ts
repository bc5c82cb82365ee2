import { z } from "zod";
import { webhookReceiverName } from "./receivers.js";
import { parseWebhookSecrets } from "./webhook-signature.js";

/** Where user events go (none by default), and how hard the outbox tries; mail uses the same retries. */
export interface EventSettings {
  /** Every event is POSTed to each, signed with `webhookSecrets`. */
  webhookUrls: string[];
  /** `whsec_…` keys, newest first; present whenever `webhookUrls` is not empty. */
  webhookSecrets: Buffer[];
  /** The Redis stream every event is added to, and about how many entries it keeps. */
  stream?: { key: string; maxLength: number };
  /** The longest one webhook request or stream write may take. */
  deliveryTimeoutMs: number;
  /** A delivery (or mail) still failing this long after its action is marked failed. */
  maxAgeSeconds: number;
  /** Delivered and failed deliveries are purged this long after they finished. */
  retentionSeconds: number;
}

/** Comma- or space-separated http(s) URLs, each naming a receiver of its own (see `webhookReceiverName`). */
const webhookUrls = z
  .string()
  .default("")
  .transform((text, ctx) => {
    const urls = text.split(/[\s,]+/).filter(Boolean);
    // Positions, not the values: a URL may carry a receiver's credentials.
    const malformed = urls.flatMap((entry, index) =>
      URL.canParse(entry) && ["http:", "https:"].includes(new URL(entry).protocol) ? [] : [index + 1],
    );
    if (malformed.length > 0) {
      ctx.addIssue({
        code: "custom",
        message: `must list http:// or https:// URLs (entry ${malformed.join(", ")} is not one)`,
      });
      return z.NEVER;
    }
    const names = urls.map(webhookReceiverName);
    if (new Set(names).size !== names.length) {
      ctx.addIssue({
        code: "custom",
        message: "lists a URL twice (URLs that differ only in credentials or query count as one)",
      });
      return z.NEVER;
    }
    return urls;
  });

interface EventVariables {
  EVENT_WEBHOOK_URLS: string[];
  EVENT_WEBHOOK_SECRET?: string;
  EVENT_STREAM?: string;
  EVENT_STREAM_MAX_LENGTH: number;
  EVENT_DELIVERY_TIMEOUT: number;
  EVENT_DELIVERY_MAX_AGE: number;
  EVENT_RETENTION: number;
  REDIS_URL?: string;
  REDIS_CLUSTER_NODES?: unknown;
  REDIS_SENTINELS?: unknown;
}

/**
 * The feature's group of the configuration. EVENT_STREAM_MAX_LENGTH is a count and the other
 * EVENT_* variables durations, which the configuration parses as it parses every other.
 */
export const eventGroup = {
  /** Its variables, parsed. */
  variables: {
    EVENT_WEBHOOK_URLS: webhookUrls,
    EVENT_WEBHOOK_SECRET: z
      .string()
      .trim()
      .refine(
        (text) => parseWebhookSecrets(text) !== null,
        "must be whsec_ followed by 24 to 64 bytes in base64 (several: separated by commas)",
      )
      .optional(),
    EVENT_STREAM: z
      .string()
      .trim()
      .regex(/^[\x21-\x7e]{1,256}$/, "must be a Redis key of 1 to 256 visible ASCII characters")
      .optional(),
  },

  settings(env: EventVariables): EventSettings {
    return {
      webhookUrls: env.EVENT_WEBHOOK_URLS,
      webhookSecrets: env.EVENT_WEBHOOK_SECRET === undefined ? [] : parseWebhookSecrets(env.EVENT_WEBHOOK_SECRET)!,
      stream:
        env.EVENT_STREAM === undefined ? undefined : { key: env.EVENT_STREAM, maxLength: env.EVENT_STREAM_MAX_LENGTH },
      deliveryTimeoutMs: env.EVENT_DELIVERY_TIMEOUT * 1000,
      maxAgeSeconds: env.EVENT_DELIVERY_MAX_AGE,
      retentionSeconds: env.EVENT_RETENTION,
    };
  },

  /** What the variables need of each other, in every environment: a secret to sign with, a Redis to hold the stream. */
  check(env: EventVariables, ctx: z.RefinementCtx): void {
    if (env.EVENT_WEBHOOK_URLS.length > 0 && env.EVENT_WEBHOOK_SECRET === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["EVENT_WEBHOOK_SECRET"],
        message: "is required with EVENT_WEBHOOK_URLS: every delivery is signed",
      });
    }
    const redis = env.REDIS_URL ?? env.REDIS_CLUSTER_NODES ?? env.REDIS_SENTINELS;
    if (env.EVENT_STREAM !== undefined && redis === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["EVENT_STREAM"],
        message: "needs REDIS_URL (or REDIS_CLUSTER_NODES, or REDIS_SENTINELS): the stream lives in the store's Redis",
      });
    }
  },
};
