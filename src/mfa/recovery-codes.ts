import { createHash, randomInt } from "node:crypto";

export const recoveryCodeCount = 10;
// No 0/o, 1/l/i: codes are read off paper and typed by hand.
const alphabet = "23456789abcdefghjkmnpqrstuvwxyz";
const codeLength = 16; // ≈ 79 bits: out of reach of offline guessing, so a fast hash suffices

/** Fresh codes as shown to the user (`xxxx-xxxx-xxxx-xxxx`) and the hashes that are stored instead. */
export function newRecoveryCodes(): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: recoveryCodeCount }, () => {
    const characters = Array.from({ length: codeLength }, () => alphabet[randomInt(alphabet.length)]).join("");
    return characters.match(/.{4}/g)!.join("-");
  });
  return { codes, hashes: codes.map((code) => hashRecoveryCode(code)!) };
}

/** The stored form of what a user typed (any case, with or without dashes and spaces); null when it cannot be a recovery code. */
export function hashRecoveryCode(typed: string): string | null {
  const normalized = typed.toLowerCase().replace(/[\s-]/g, "");
  if (normalized.length !== codeLength || [...normalized].some((character) => !alphabet.includes(character)))
    return null;
  return createHash("sha256").update(normalized).digest("hex");
}
