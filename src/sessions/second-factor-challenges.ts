import type { AccountCredentials } from "./sign-in.js";

/**
 * What a login needs from a second factor: once the password is right and the account has one
 * turned on, a token that completes this login with a code (MFA_REQUIRED hands it out). The MFA
 * feature implements it; completing the login with the code starts the session through the
 * sessions service, as every login does.
 */
export interface SecondFactorChallenges {
  /** A single-use token for this account, valid only while its credentials stay those the password was checked against. */
  issue(account: AccountCredentials): Promise<string>;
}
