import { createHmac } from "node:crypto";

const secretPrefix = "whsec_";
/** What the Standard Webhooks specification allows for a signing secret. */
const secretBytes = { min: 24, max: 64 };

/**
 * The signing keys of `EVENT_WEBHOOK_SECRET`: `whsec_<base64>` entries separated by commas or
 * whitespace, newest first. Every delivery is signed with each of them, so that receivers can move
 * to a new secret while the old one still verifies. Null when a secret is malformed.
 */
export function parseWebhookSecrets(text: string): Buffer[] | null {
  const entries = text.split(/[\s,]+/).filter(Boolean);
  const keys = entries.map((entry) => {
    if (!entry.startsWith(secretPrefix)) return null;
    const encoded = entry.slice(secretPrefix.length);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
    const key = Buffer.from(encoded, "base64");
    return key.length >= secretBytes.min && key.length <= secretBytes.max ? key : null;
  });
  return keys.length > 0 && keys.every((key) => key !== null) ? (keys as Buffer[]) : null;
}

/**
 * The `webhook-signature` header of the Standard Webhooks specification: `v1,<base64 of
 * HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` for each key, separated by spaces.
 */
export function signWebhook(keys: readonly Buffer[], id: string, timestampSeconds: number, body: string): string {
  const signed = `${id}.${timestampSeconds}.${body}`;
  return keys.map((key) => `v1,${createHmac("sha256", key).update(signed).digest("base64")}`).join(" ");
}
