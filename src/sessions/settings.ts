// The settings of how long sessions and their tokens live, and how many one account may have.

export interface TokenLifetimes {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** How long after its rotation a refresh token may be presented again by the same client; 0: never. */
  refreshReuseIntervalSeconds: number;
}

/** What MAX_SESSIONS_PER_ACCOUNT, REAUTHENTICATION_WINDOW and the token lifetimes configure. */
export interface SessionSettings {
  /** Live sessions one account may have; a sign-in past it ends the least recently used. */
  maxPerAccount: number;
  /** How long after signing in with a credential a session may make sensitive changes without the password; 0: never. */
  reauthenticationWindowSeconds: number;
  lifetimes: TokenLifetimes;
}

interface SessionVariables {
  MAX_SESSIONS_PER_ACCOUNT: number;
  REAUTHENTICATION_WINDOW: number;
  ACCESS_TOKEN_TTL: number;
  REFRESH_TOKEN_TTL: number;
  REFRESH_REUSE_INTERVAL: number;
}

/**
 * The feature's group of the configuration. Its variables are a count and durations, which the
 * configuration parses as it parses every other.
 */
export const sessionGroup = {
  settings(env: SessionVariables): SessionSettings {
    return {
      maxPerAccount: env.MAX_SESSIONS_PER_ACCOUNT,
      reauthenticationWindowSeconds: env.REAUTHENTICATION_WINDOW,
      lifetimes: {
        accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL,
        refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL,
        refreshReuseIntervalSeconds: env.REFRESH_REUSE_INTERVAL,
      },
    };
  },
};
