import { BadUserInputError } from "../errors/errors.js";

/** Every account has it; it is never stored. */
export const impliedRole = "user";
/** The built-in role of the administration operations. */
export const adminRole = "admin";

const roleNamePattern = /^[a-z][a-z0-9_.:-]{0,63}$/;
const maxRoles = 32;

/**
 * Role names as stored: validated, without the implied `user`, without duplicates, sorted (so equal
 * sets compare equal). Any other name is an operator's own, meaningful to the router and other
 * subgraphs that read the token's `roles` claim.
 */
export function normalizeRoles(roles: readonly string[], field = "roles"): string[] {
  const invalid = roles.find((role) => !roleNamePattern.test(role));
  if (invalid !== undefined) {
    throw new BadUserInputError(
      field,
      'A role name has 1–64 lower-case letters, digits, "_", ".", ":" or "-", and starts with a letter.',
    );
  }
  const stored = [...new Set(roles)].filter((role) => role !== impliedRole);
  // Counted before sorting: a list as long as the request body allows costs no sort.
  if (stored.length > maxRoles) throw new BadUserInputError(field, `An account has at most ${maxRoles} roles.`);
  return stored.sort();
}

/** The roles an account has: the implied one first, then the stored ones. */
export function effectiveRoles(stored: readonly string[]): string[] {
  return [impliedRole, ...stored];
}

export function isAdmin(roles: readonly string[]): boolean {
  return roles.includes(adminRole);
}
