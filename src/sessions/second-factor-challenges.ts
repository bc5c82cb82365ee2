import type { AccountCredentials } from "./sign-in.js";

/** What a login proved before its second factor was asked for. */
export type FirstFactor = "password" | "passkey";

/**
 * What a login needs from a second factor: once the first credential holds and the account has one
 * turned on, a token that completes this login with a second factor (MFA_REQUIRED hands it out).
 * The MFA feature implements it; completing the login starts the session through the sessions
 * service, as every login does.
 */
export interface SecondFactorChallenges {
  /**
   * A single-use token for this account, valid only while its credentials stay those the first
   * factor was checked against; it remembers which first factor that was.
   */
  issue(account: AccountCredentials, firstFactor: FirstFactor): Promise<string>;
}
