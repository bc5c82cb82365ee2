// The settings of the accounts' policy on unverified addresses and of the links mailed to them.

/** What REQUIRE_EMAIL_VERIFICATION, EMAIL_VERIFICATION_TTL, PASSWORD_RESET_TTL and MAIL_REQUESTS_PER_HOUR configure. */
export interface AccountSettings {
  /** Accounts whose address was never verified cannot sign in (EMAIL_NOT_VERIFIED). */
  requireEmailVerification: boolean;
  /** How long a mailed link to verify an address (a new one included) stays valid. */
  emailVerificationTtlSeconds: number;
  /** How long a mailed password reset link stays valid. */
  passwordResetTtlSeconds: number;
  /** Mails one address or account may ask for per hour (ten times as many per client address). */
  mailRequestsPerHour: number;
}

interface AccountVariables {
  REQUIRE_EMAIL_VERIFICATION: boolean;
  EMAIL_VERIFICATION_TTL: number;
  PASSWORD_RESET_TTL: number;
  MAIL_REQUESTS_PER_HOUR: number;
}

/**
 * The feature's group of the configuration. Its variables are a flag, durations and a count,
 * which the configuration parses as it parses every other.
 */
export const accountGroup = {
  settings(env: AccountVariables): AccountSettings {
    return {
      requireEmailVerification: env.REQUIRE_EMAIL_VERIFICATION,
      emailVerificationTtlSeconds: env.EMAIL_VERIFICATION_TTL,
      passwordResetTtlSeconds: env.PASSWORD_RESET_TTL,
      mailRequestsPerHour: env.MAIL_REQUESTS_PER_HOUR,
    };
  },
};
