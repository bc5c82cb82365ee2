import type { LoginDetails } from "./session-lifecycle.js";

/** What a login proved before its second factor was asked for (`mfa_challenges.first_factor`). */
export const firstFactors = ["password", "passkey", "provider"] as const;
export type FirstFactor = (typeof firstFactors)[number];

/** How an account proved who it is, when not with its password. */
export interface SignInProof {
  /** What proved the first factor; the password when absent. */
  firstFactor?: FirstFactor;
  /** What the login's security events say beside their kind: how it signed in (`method: "passkey"`, the `provider`). */
  details?: LoginDetails;
  /** The credential proved two factors by itself (a passkey with user verification): no second factor is asked. */
  multiFactor?: boolean;
}
