// The EVENT_* settings: where user events go, and how long the outbox tries (mail included).
import { z } from "zod";
import type { EventSettings } from "../events/event-settings.js";
import { webhookReceiverName } from "../events/receivers.js";
import { parseWebhookSecrets } from "../events/webhook-signature.js";
import { duration, positiveInt } from "./parsers.js";

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

/** The variables, for the configuration's schema. */
export const eventVariables = {
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
  EVENT_STREAM_MAX_LENGTH: positiveInt(100_000),
  EVENT_DELIVERY_TIMEOUT: duration("10s"),
  EVENT_DELIVERY_MAX_AGE: duration("3d"),
  EVENT_RETENTION: duration("7d"),
};

type EventVariables = z.output<z.ZodObject<typeof eventVariables>> & { REDIS_URL?: string };

/** What the variables need of each other: a secret to sign with, a Redis to hold the stream. */
export function checkEventVariables(env: EventVariables, ctx: z.RefinementCtx): void {
  if (env.EVENT_WEBHOOK_URLS.length > 0 && env.EVENT_WEBHOOK_SECRET === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["EVENT_WEBHOOK_SECRET"],
      message: "is required with EVENT_WEBHOOK_URLS: every delivery is signed",
    });
  }
  if (env.EVENT_STREAM !== undefined && env.REDIS_URL === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["EVENT_STREAM"],
      message: "needs REDIS_URL: the stream lives in that Redis",
    });
  }
}

export function eventSettings(env: EventVariables): EventSettings {
  return {
    webhookUrls: env.EVENT_WEBHOOK_URLS,
    webhookSecrets: env.EVENT_WEBHOOK_SECRET === undefined ? [] : parseWebhookSecrets(env.EVENT_WEBHOOK_SECRET)!,
    stream:
      env.EVENT_STREAM === undefined ? undefined : { key: env.EVENT_STREAM, maxLength: env.EVENT_STREAM_MAX_LENGTH },
    deliveryTimeoutMs: env.EVENT_DELIVERY_TIMEOUT * 1000,
    maxAgeSeconds: env.EVENT_DELIVERY_MAX_AGE,
    retentionSeconds: env.EVENT_RETENTION,
  };
}
