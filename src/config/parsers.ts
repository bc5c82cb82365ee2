// The zod parsers of the settings' text: each turns one environment variable into its typed value,
// or into a message that says what the variable must look like.
import { z } from "zod";
import { readPrivateKeys, SigningKeyError } from "../auth/signing-keys.js";
import { parseAddressRange, type AddressRange } from "../http/client-address.js";
import { quotedVisible } from "../observability/visible-text.js";
import { foldIdentifier, isEmailAddress } from "../users/identity.js";
import { parseDurationSeconds } from "./duration.js";

/** A duration such as 15m, in seconds. */
export const duration = (fallback: string, allowZero = false) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const seconds = parseDurationSeconds(text, allowZero);
      if (seconds === null) {
        ctx.addIssue({ code: "custom", message: `must be a duration like 90s, 15m, 12h or 30d (got "${text}")` });
        return z.NEVER;
      }
      return seconds;
    });

/** A URL of one of `protocols`; absent when unset. */
export const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .min(1)
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      `must be a ${protocols.map((p) => `${p}//`).join(" or ")} URL`,
    )
    .optional();

/** A comma-separated list of e-mail addresses, each a valid one, lower-cased. */
export const emailList = z
  .string()
  .default("")
  .transform((text, ctx) => {
    const emails = text
      .split(",")
      .map(foldIdentifier)
      .filter((email) => email.length > 0);
    const invalid = emails.filter((email) => !isEmailAddress(email));
    if (invalid.length > 0) {
      ctx.addIssue({
        code: "custom",
        message: `must be comma-separated bare e-mail addresses (not: ${invalid.map(quotedVisible).join(", ")})`,
      });
      return z.NEVER;
    }
    return [...new Set(emails)];
  });

export const positiveInt = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

export const count = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** Comma- or space-separated addresses and CIDR ranges; empty: none. */
export const addressRanges = z
  .string()
  .default("")
  .transform((text, ctx) => {
    const entries = text.split(/[\s,]+/).filter((entry) => entry !== "");
    const ranges = entries.map((entry) => parseAddressRange(entry));
    const malformed = entries.filter((_entry, index) => ranges[index] === null);
    if (malformed.length > 0) {
      ctx.addIssue({
        code: "custom",
        message: `must list IP addresses or CIDR ranges like 10.0.0.0/8 (got ${malformed.map((entry) => `"${entry}"`).join(", ")})`,
      });
      return z.NEVER;
    }
    return ranges as AddressRange[];
  });

/** Key material is checked here, so a bad key stops the start with the other settings' problems. */
export function checkPrivateKeys(text: string, ctx: z.RefinementCtx): void {
  try {
    readPrivateKeys(text);
  } catch (error) {
    if (!(error instanceof SigningKeyError)) throw error;
    ctx.addIssue({ code: "custom", message: error.message });
  }
}

/** true, false, 1 or 0. */
export const booleanFlag = z.enum(["true", "false", "1", "0"]).transform((value) => value === "true" || value === "1");
