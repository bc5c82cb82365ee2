import { BadUserInputError } from "../errors/errors.js";

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const usernamePattern = /^[a-z0-9_][a-z0-9_.-]*$/i;
export const usernameLength = { min: 3, max: 32 } as const;

/**
 * The one folding of what people type to name an account (e-mail addresses, username keys, login
 * identifiers): NFKC (fullwidth "ｆ" is "f"), trimmed, lower-cased.
 */
export function foldIdentifier(text: string): string {
  return text.normalize("NFKC").trim().toLowerCase();
}

const maxLoginIdentifierLength = 320;

/** What a sign-in names its account by (a username or an e-mail address), folded; BAD_USER_INPUT when empty or too long. */
export function parseLoginIdentifier(usernameOrEmail: string): string {
  const identifier = foldIdentifier(usernameOrEmail);
  if (identifier.length === 0 || identifier.length > maxLoginIdentifierLength) {
    throw new BadUserInputError("usernameOrEmail", "Enter your username or e-mail address.");
  }
  return identifier;
}

/** Whether a folded text (`foldIdentifier`) is an e-mail address an account may have. */
export function isEmailAddress(folded: string): boolean {
  return folded.length <= 254 && emailPattern.test(folded);
}

/** E-mail addresses are compared and stored folded (`foldIdentifier`), here and everywhere else. */
export function normalizeEmail(email: string, field = "email"): string {
  const normalized = foldIdentifier(email);
  if (!isEmailAddress(normalized)) {
    throw new BadUserInputError(field, "Enter a valid e-mail address.");
  }
  return normalized;
}

/** The username as shown (NFKC, trimmed) and its key for uniqueness ("Alice" = "alice"). */
export function normalizeUsername(username: string, field = "username"): { display: string; key: string } {
  const display = username.normalize("NFKC").trim();
  if (display.length < usernameLength.min || display.length > usernameLength.max || !usernamePattern.test(display)) {
    throw new BadUserInputError(
      field,
      `A username has ${usernameLength.min}–${usernameLength.max} letters, digits, "_", "." or "-", and starts with a letter, digit or "_".`,
    );
  }
  return { display, key: foldIdentifier(display) };
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** User ids are UUIDs; anything else names no user (and must not reach PostgreSQL's uuid cast). */
export function isUserId(id: string): boolean {
  return uuidPattern.test(id);
}

/** A user id from client input, lower-cased; BAD_USER_INPUT on `field` when it is not one. */
export function parseUserId(id: string, field: string): string {
  if (!isUserId(id)) throw new BadUserInputError(field, "This is not a user id.");
  return id.toLowerCase();
}
