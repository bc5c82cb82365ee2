import commonPasswords from "fxa-common-password-list";
import { WeakPasswordError } from "../errors/errors.js";

export const passwordLength = { min: 8, max: 128 } as const;

/** Length in code points, so that every character a user types counts once. */
export function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

export function assertStrongPassword(password: string, field = "password"): void {
  const length = codePointLength(password);
  if (length < passwordLength.min) {
    throw new WeakPasswordError(`The password must have at least ${passwordLength.min} characters.`, field);
  }
  if (length > passwordLength.max) {
    throw new WeakPasswordError(`The password must have at most ${passwordLength.max} characters.`, field);
  }
  if (commonPasswords.test(password) || commonPasswords.test(password.toLowerCase())) {
    throw new WeakPasswordError("This password is too common; choose another one.", field);
  }
}
