import { z } from "zod";

/** What TOTP_ISSUER configures. */
export interface MfaSettings {
  /** The name authenticator apps show beside an account's codes. */
  totpIssuer: string;
}

/** The feature's group of the configuration. */
export const mfaGroup = {
  /** Its variables, parsed. */
  variables: {
    TOTP_ISSUER: z.string().trim().min(1).max(64).default("users-subgraph"),
  },

  settings(env: { TOTP_ISSUER: string }): MfaSettings {
    return { totpIssuer: env.TOTP_ISSUER };
  },
};
