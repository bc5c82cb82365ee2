import { domainToASCII, domainToUnicode } from "node:url";
import { BadUserInputError } from "../errors/errors.js";

// A bare address (docs/api.md): a dot-atom local part of RFC 5322 atext or Unicode letters, marks
// and digits (no invisible ones), "@", and an ASCII host name whose last label starts with a letter
// (no IP address, no domain literal). Nothing the mail library or a mail server could read as a name,
// a comment, a group, a second address or a route: what is stored is what mail is sent to.
const atom = "(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|(?!\\p{Default_Ignorable_Code_Point})[\\p{L}\\p{M}\\p{N}])+";
const label = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const topLabel = "[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?";
const emailPattern = new RegExp(`^(${atom}(?:\\.${atom})*)@((?:${label}\\.)+${topLabel})$`, "u");
const octets = { address: 254, localPart: 64 } as const;
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

/** Whether a folded text (`foldIdentifier`) is a bare e-mail address an account may have. */
export function isEmailAddress(folded: string): boolean {
  if (Buffer.byteLength(folded) > octets.address) return false;
  const [, localPart, domain] = emailPattern.exec(folded) ?? [];
  if (localPart === undefined || domain === undefined || Buffer.byteLength(localPart) > octets.localPart) return false;
  // With a non-ASCII local part the message travels as SMTPUTF8, which writes the domain in
  // Unicode: it would no longer be the address stored.
  if (!domain.split(".").every(isValidLabel)) return false;
  return /^[\x00-\x7f]*$/.test(localPart) || !/(?:^|\.)xn--/.test(domain);
}

/**
 * An A-label (xn--) must decode to Unicode that encodes back to it. Checked label by label: what
 * `domainToASCII` does with an invalid one differs between Node versions (an empty answer, or the
 * label unchanged).
 */
function isValidLabel(label: string): boolean {
  if (!label.startsWith("xn--")) return true;
  const unicode = domainToUnicode(label);
  return unicode !== "" && unicode !== label && domainToASCII(unicode) === label;
}

/** E-mail addresses are compared and stored folded (`foldIdentifier`), here and everywhere else. */
export function normalizeEmail(email: string, field = "email"): string {
  const normalized = foldIdentifier(email);
  if (!isEmailAddress(normalized)) {
    throw new BadUserInputError(field, "Enter one e-mail address, like name@example.com, with nothing around it.");
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

/** Whether `key` is a username key as `normalizeUsername` makes it (a position in the list of users, say). */
export function isUsernameKey(key: string): boolean {
  return (
    key.length >= usernameLength.min &&
    key.length <= usernameLength.max &&
    usernamePattern.test(key) &&
    foldIdentifier(key) === key
  );
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
