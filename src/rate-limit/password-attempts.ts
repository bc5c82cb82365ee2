import { isIP } from "node:net";
import { RateLimitedError } from "../errors/errors.js";
import type { CounterStore, ReachedLimit } from "../store/counter-store.js";

export interface PasswordAttemptLimits {
  /** Failed password checks of one account from one client in a window: past it, that client waits. */
  failuresPerClient: number;
  /**
   * Failed checks of one account from all clients in a window: past it, only clients that have
   * signed in to the account before (within `knownClientSeconds`) may still try.
   */
  failuresPerAccount: number;
  /** Failed checks from one client across all accounts in a window (password spraying). */
  failuresPerAddress: number;
  windowSeconds: number;
  /** Registrations from one client address per hour. */
  registrationsPerAddress: number;
  /** Passkey sign-ins and sign-ins with a provider started from one client address in `signInStartWindowSeconds`. */
  signInStartsPerAddress: number;
}

/** How long a client that signed in stays known to the account. */
const knownClientSeconds = 30 * 86400;
const registrationWindowSeconds = 3600;
/**
 * As long as what a sign-in's start keeps for its answer lives at most (a provider's sign-in flow):
 * one client address holds no more of them at once than its allowance.
 */
export const signInStartWindowSeconds = 10 * 60;

/**
 * The client an attempt is counted against: its address, an IPv6 address by its /64 (one host
 * usually has the whole /64 to pick from).
 */
export function clientKey(address: string | undefined): string {
  if (!address) return "unknown";
  if (isIP(address) !== 6) return address;
  const [head = "", tail = ""] = address.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const groups = address.includes("::")
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(":")}::/64`;
}

/** One password check under way: settle it with its outcome. */
export interface PasswordAttempt {
  /** Takes the attempt back (successes are not failures), resets this client's failures, and remembers the client. */
  succeeded(): Promise<void>;
}

/**
 * Limits password guessing (logins, current-password checks) without handing strangers a way to
 * lock owners out — Keycloak's temporary lockout and OWASP ASVS 2.2.1, per client:
 *
 * - failures are counted per (account, client), per account across clients, and per client across
 *   accounts, in fixed windows; a refused attempt counts nowhere, a success counts nowhere and
 *   resets its (account, client) pair;
 * - a client past its own allowance for an account waits; everyone else does not;
 * - an account past its allowance across clients (a distributed attack: at the default 20 per 15
 *   minutes, at most 80 an hour, within ASVS's 100) refuses the clients it has never seen succeed,
 *   while clients the owner signed in from keep their own allowance.
 *
 * Each attempt is counted before the password is checked, so concurrent guesses cannot overshoot.
 */
export class PasswordAttemptLimiter {
  constructor(
    private readonly store: CounterStore,
    private readonly limits: PasswordAttemptLimits,
    private readonly onLimited: () => void = () => {},
  ) {}

  /**
   * Counts a password check of `account` (the account id once resolved, else the name tried) from
   * the client at `address`; RATE_LIMITED, counting nothing, when a limit is reached.
   */
  async begin(account: string, address: string | undefined): Promise<PasswordAttempt> {
    const { failuresPerClient, failuresPerAccount, failuresPerAddress, windowSeconds } = this.limits;
    const client = clientKey(address);
    const keys = {
      pair: `login:pair:${account}:${client}`,
      account: `login:account:${account}`,
      address: `login:address:${client}`,
    };
    const known = `login:known:${account}:${client}`;
    const reached = await this.store.hitUnlessLimited(
      [
        { key: keys.pair, limit: failuresPerClient },
        { key: keys.address, limit: failuresPerAddress },
        // A client the owner has signed in from keeps its own allowance: the account-wide limit does not apply to it.
        { key: keys.account, limit: failuresPerAccount, waivedBy: known },
      ],
      windowSeconds,
    );
    await this.refuseIf(account, reached);
    return {
      succeeded: () =>
        this.store.settle({
          forget: [keys.pair],
          unhit: [keys.account, keys.address],
          hit: { key: known, windowSeconds: knownClientSeconds },
        }),
    };
  }

  /** Counts a registration from `address`; RATE_LIMITED past the hourly allowance. */
  registration(address: string | undefined): Promise<void> {
    const { registrationsPerAddress } = this.limits;
    return this.countPerAddress("register", address, registrationsPerAddress, registrationWindowSeconds);
  }

  /**
   * Counts the start of a sign-in that keeps a challenge or a flow for its answer (a passkey
   * sign-in, a sign-in with a provider) from `address`: strangers cannot fill the shared store with
   * them. RATE_LIMITED past the allowance.
   */
  signInStart(address: string | undefined): Promise<void> {
    const { signInStartsPerAddress } = this.limits;
    return this.countPerAddress("signin-start", address, signInStartsPerAddress, signInStartWindowSeconds);
  }

  private async countPerAddress(kind: string, address: string | undefined, limit: number, windowSeconds: number) {
    const counter = await this.store.hit(`${kind}:address:${clientKey(address)}`, windowSeconds);
    if (counter.count > limit) {
      this.onLimited();
      throw new RateLimitedError(Math.max(1, counter.resetInSeconds));
    }
  }

  /**
   * RATE_LIMITED when any limit is reached. `startsLockout` marks the first refusal concerning
   * `account` (its own or this client's allowance for it) in a window, so that the audit log
   * records a lockout once, not every refused attempt.
   */
  private async refuseIf(account: string, reached: readonly ReachedLimit[]): Promise<void> {
    if (reached.length === 0) return;
    this.onLimited();
    const retryAfterSeconds = Math.max(1, ...reached.map(({ resetInSeconds }) => resetInSeconds));
    const aboutAccount = reached.some(({ key }) => !key.startsWith("login:address:"));
    const startsLockout =
      aboutAccount && (await this.store.hit(`login:lockout:${account}`, retryAfterSeconds)).count === 1;
    throw new RateLimitedError(retryAfterSeconds, startsLockout);
  }
}
