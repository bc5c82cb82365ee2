import type { RevocationStore } from "../auth/revocation/revocation-store.js";
import { RateLimitedError } from "../errors/errors.js";

export interface PasswordAttemptLimits {
  /** Password guesses allowed per account in one window; per client address ten times as many. */
  loginAttemptsPerWindow: number;
  loginWindowSeconds: number;
}

export const defaultLoginLimits: PasswordAttemptLimits = { loginAttemptsPerWindow: 10, loginWindowSeconds: 15 * 60 };

/** Counts password guesses (logins, current-password checks) in fixed windows in the shared store. */
export class PasswordAttemptLimiter {
  constructor(
    private readonly store: RevocationStore,
    private readonly limits: PasswordAttemptLimits,
    private readonly onLimited: () => void = () => {},
  ) {}

  /** Counts one guess against `subjectKey` (the account) and the client address; RATE_LIMITED past either limit. */
  async attempt(subjectKey: string, ip: string | undefined): Promise<void> {
    const { loginAttemptsPerWindow, loginWindowSeconds } = this.limits;
    const keys = [subjectKey, ...(ip ? [`login:ip:${ip}`] : [])];
    for (const key of keys) {
      const { count, resetInSeconds } = await this.store.hit(key, loginWindowSeconds);
      // Per address the allowance is larger: many people may share one (NAT, offices).
      const limit = key.startsWith("login:ip:") ? loginAttemptsPerWindow * 10 : loginAttemptsPerWindow;
      if (count > limit) {
        this.onLimited();
        throw new RateLimitedError(resetInSeconds);
      }
    }
  }
}
