import type { EncryptionKeys, Sealed } from "../auth/encryption-keys.js";
import type { Transaction } from "../db/prisma.js";
import { RateLimitedError } from "../errors/errors.js";
import type { CounterStore } from "../store/counter-store.js";
import { hashRecoveryCode } from "./recovery-codes.js";
import { isTotpCode, totpCodeStep } from "./totp.js";

/** Code guesses allowed per account in one window, whatever operation takes the code. */
export const codeAttemptsPerWindow = 10;
const codeWindowSeconds = 15 * 60;

/** How a TOTP secret is stored: sealed, beside the id of the key that sealed it. */
export interface StoredSecret {
  secretKeyId: string;
  secretCiphertext: string;
}

export interface SecondFactorDependencies {
  encryptionKeys: EncryptionKeys;
  /** Where code attempts are counted, shared by every instance. */
  counters: CounterStore;
}

/** The authenticated data of a TOTP secret: its ciphertext opens on its owner's row only. */
function secretContext(userId: string): string {
  return `totp-secret:${userId}`;
}

export function sealTotpSecret(keys: EncryptionKeys, userId: string, secret: string): Sealed {
  return keys.seal(secret, secretContext(userId));
}

export function openTotpSecret(keys: EncryptionKeys, userId: string, factor: StoredSecret): string {
  return keys.open({ keyId: factor.secretKeyId, ciphertext: factor.secretCiphertext }, secretContext(userId));
}

/**
 * An account's second factor: its TOTP secret sealed at rest, and the rule that every code (TOTP
 * step or recovery code) is accepted at most once.
 */
export class SecondFactor {
  constructor(private readonly dependencies: SecondFactorDependencies) {}

  /**
   * Counts one code guess against the account; RATE_LIMITED past the limit. Counted before the code
   * is checked, so that parallel guesses cannot outrun the limit.
   */
  async throttle(userId: string): Promise<void> {
    const { count, resetInSeconds } = await this.dependencies.counters.hit(`mfa-code:${userId}`, codeWindowSeconds);
    if (count > codeAttemptsPerWindow) throw new RateLimitedError(resetInSeconds);
  }

  seal(userId: string, secret: string): Sealed {
    return sealTotpSecret(this.dependencies.encryptionKeys, userId, secret);
  }

  open(userId: string, factor: StoredSecret): string {
    return openTotpSecret(this.dependencies.encryptionKeys, userId, factor);
  }

  /**
   * Whether `code` is a current code of the account's enabled authenticator or one of its unused
   * recovery codes; if so it is used up, in `tx`. Concurrent presentations of one code: one wins.
   */
  async consume(tx: Transaction, userId: string, code: string, now: Date): Promise<boolean> {
    const typed = code.trim();
    if (isTotpCode(typed)) {
      const factor = await tx.totpFactor.findUnique({ where: { userId } });
      if (!factor?.enabledAt) return false;
      const step = await totpCodeStep(this.open(userId, factor), typed, now);
      if (step === null) return false;
      // Records the step as the last one used, unless it or a later one already was: a code (even
      // one seen over a shoulder) works once, and no older one works after it.
      const { count } = await tx.totpFactor.updateMany({
        where: { userId, enabledAt: { not: null }, OR: [{ lastUsedStep: null }, { lastUsedStep: { lt: step } }] },
        data: { lastUsedStep: step },
      });
      return count === 1;
    }
    const codeHash = hashRecoveryCode(typed);
    if (codeHash === null) return false;
    const { count } = await tx.recoveryCode.updateMany({
      where: { userId, codeHash, usedAt: null },
      data: { usedAt: now },
    });
    return count === 1;
  }
}
