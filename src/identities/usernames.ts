import { randomInt } from "node:crypto";
import { normalizeUsername, usernameLength } from "../users/identity.js";

/**
 * A username for a new account, from the first of the provider's names (a login name, a display
 * name, the address's local part) that yields one: spaces become "_", other characters a username
 * cannot hold are dropped. "user" when none does.
 */
export function baseUsername(hints: readonly string[], email: string): string {
  for (const hint of [...hints, email.split("@")[0] ?? ""]) {
    const cleaned = hint
      .normalize("NFKC")
      .trim()
      .replace(/\s+/g, "_")
      .replace(/[^A-Za-z0-9_.-]/g, "")
      .replace(/^[.-]+/, "")
      .slice(0, usernameLength.max);
    if (cleaned.length >= usernameLength.min) return normalizeUsername(cleaned).display;
  }
  return "user";
}

/** The base with a random four-digit suffix, for when the base is taken: still a valid username. */
export function suffixedUsername(base: string): string {
  return `${base.slice(0, usernameLength.max - 5)}-${randomInt(0, 10_000).toString().padStart(4, "0")}`;
}
