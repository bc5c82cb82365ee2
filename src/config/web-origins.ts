import { isIP } from "node:net";
import { z } from "zod";

/** A domain name, as a WebAuthn RP ID must be (an IP address cannot be one). */
export const relyingPartyId = z
  .string()
  .trim()
  .toLowerCase()
  .default("localhost")
  .refine(
    (name) =>
      isIP(name) === 0 &&
      /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(name),
    {
      message: "must be a domain name such as example.com (no scheme, port or IP address)",
    },
  );

/** Comma-separated http(s) origins (scheme, host, port: no path), each as the URL standard serializes it. */
export const originList = z
  .string()
  .transform((text, ctx) => {
    const entries = text
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry !== "");
    const origins = entries.map(parseOrigin);
    const malformed = entries.filter((_entry, index) => origins[index] === null);
    if (malformed.length > 0 || entries.length === 0) {
      ctx.addIssue({
        code: "custom",
        message: `must be comma-separated origins like https://app.example.com (got ${malformed.map((entry) => `"${entry}"`).join(", ") || "none"})`,
      });
      return z.NEVER;
    }
    return [...new Set(origins as string[])];
  })
  .optional();

function parseOrigin(text: string): string | null {
  try {
    const url = new URL(text);
    const bare = url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password;
    return ["http:", "https:"].includes(url.protocol) && bare ? url.origin : null;
  } catch {
    return null;
  }
}

/** Whether a page at `origin` may use passkeys of `rpId`: its host is the RP ID or under it. */
export function originUnder(origin: string, rpId: string): boolean {
  const host = new URL(origin).hostname;
  return host === rpId || host.endsWith(`.${rpId}`);
}
