import { RateLimitedError } from "../errors/errors.js";
import type { CounterStore } from "../store/counter-store.js";

const windowSeconds = 3600;

/**
 * Counts requests that send mail (verification, password reset, e-mail change) per address or
 * account, and per client address, in hourly windows of the shared store: nobody can flood a
 * mailbox, or the mail server, through the subgraph.
 */
export class MailRequestLimiter {
  constructor(
    private readonly store: CounterStore,
    /** Per address or account; per client address ten times as many (offices and NATs share one). */
    private readonly perHour: number,
  ) {}

  /** Counts one request for each subject (`account:…`, `address:…`); RATE_LIMITED past any limit. */
  async attempt(subjectKeys: string | string[], ip: string | undefined): Promise<void> {
    const limits: [string, number][] = [subjectKeys].flat().map((key) => [`mail:${key}`, this.perHour]);
    if (ip) limits.push([`mail:ip:${ip}`, this.perHour * 10]);
    for (const [key, limit] of limits) {
      const { count, resetInSeconds } = await this.store.hit(key, windowSeconds);
      if (count > limit) throw new RateLimitedError(resetInSeconds);
    }
  }
}
