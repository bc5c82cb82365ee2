import { randomBytes } from "node:crypto";
import type { Clock } from "../clock.js";
import { InvalidChallengeError } from "../errors/errors.js";
import type { SingleUseStore } from "../store/single-use-store.js";

export type ChallengePurpose = "registration" | "sign_in" | "second_factor";

/** What a challenge remembers until its answer comes, on whichever instance that is. */
export interface PendingChallenge {
  purpose: ChallengePurpose;
  /** The WebAuthn challenge the options carry (base64url): the answer must have signed it. */
  challenge: string;
  /** The account it is for; null when it is for any discoverable credential, or for a name no account has. */
  userId: string | null;
  /** Any discoverable credential may answer (no name was given); else only `userId`'s. */
  discoverable: boolean;
  userVerification: "required" | "preferred";
  /** second_factor: the SHA-256 of the mfaToken whose login it completes. */
  mfaTokenHash?: string;
}

interface Stored extends PendingChallenge {
  expiresAt: number;
}

const challengeIdPattern = /^[A-Za-z0-9_-]{43}$/;

/**
 * Challenges under an id the client carries back (never a cookie): single use (taken atomically
 * from the shared store, so two instances cannot both accept one answer), expiring, and bound to
 * their purpose and account.
 */
export class PasskeyChallenges {
  constructor(
    private readonly store: SingleUseStore,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {}

  async issue(challenge: PendingChallenge): Promise<{ challengeId: string; expiresAt: Date }> {
    const challengeId = randomBytes(32).toString("base64url");
    const expiresAt = new Date(this.clock.now().getTime() + this.ttlSeconds * 1000);
    const stored: Stored = { ...challenge, expiresAt: expiresAt.getTime() };
    await this.store.put(storeKey(challengeId), JSON.stringify(stored), this.ttlSeconds);
    return { challengeId, expiresAt };
  }

  /**
   * The challenge, used up whatever follows; INVALID_CHALLENGE when it is unknown, used, expired,
   * for another purpose, or (with `userId`) for another account.
   */
  async take(challengeId: string, purposes: ChallengePurpose[], userId?: string): Promise<PendingChallenge> {
    if (!challengeIdPattern.test(challengeId)) throw new InvalidChallengeError("challengeId");
    const taken = await this.store.take(storeKey(challengeId));
    const stored = taken === null ? null : (JSON.parse(taken) as Stored);
    const valid =
      stored !== null &&
      stored.expiresAt > this.clock.now().getTime() &&
      purposes.includes(stored.purpose) &&
      (userId === undefined || stored.userId === userId);
    if (!valid) throw new InvalidChallengeError("challengeId");
    const { expiresAt: _expiresAt, ...challenge } = stored;
    return challenge;
  }
}

function storeKey(challengeId: string): string {
  return `passkey-challenge:${challengeId}`;
}
