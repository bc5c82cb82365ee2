import { z } from "zod";

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
    // An empty query or fragment ("https://app.example.com?") leaves no trace in the URL, yet is no origin.
    const bare = url.pathname === "/" && !/[?#]/.test(text) && !url.username && !url.password;
    return ["http:", "https:"].includes(url.protocol) && bare ? url.origin : null;
  } catch {
    return null;
  }
}
