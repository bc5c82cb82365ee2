import type { LoginDetails } from "./session-lifecycle.js";
import type { AccountCredentials } from "./sign-in.js";
import type { FirstFactor } from "./sign-in-proof.js";

/**
 * What a login needs from a second factor: once the first credential holds and the account has one
 * turned on, a token that completes this login with a second factor (MFA_REQUIRED hands it out).
 * The MFA feature implements it; completing the login starts the session through the sessions
 * service, as every login does.
 */
export interface SecondFactorChallenges {
  /**
   * A single-use token for this account, valid only while its credentials stay those the first
   * factor was checked against; it remembers which first factor that was, and `details` (how it
   * signed in: a passkey, an identity provider) for the event of the session it completes.
   */
  issue(account: AccountCredentials, firstFactor: FirstFactor, details?: LoginDetails): Promise<string>;
}
