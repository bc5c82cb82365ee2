import { BadUserInputError } from "../errors/errors.js";

export const passkeyNameLength = { max: 64 } as const;
/** What a passkey registered without a name is called until its owner renames it. */
export const defaultPasskeyName = "Passkey";

/** A name its owner gives a passkey: NFKC, trimmed, 1–64 characters, no control characters. */
export function normalizePasskeyName(name: string, field = "name"): string {
  const normalized = name.normalize("NFKC").trim();
  if (normalized.length === 0 || [...normalized].length > passkeyNameLength.max || /\p{Cc}/u.test(normalized)) {
    throw new BadUserInputError(
      field,
      `A passkey's name has 1–${passkeyNameLength.max} characters and no control characters.`,
    );
  }
  return normalized;
}
