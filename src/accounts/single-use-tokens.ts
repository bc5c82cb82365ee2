import { createHash, randomBytes } from "node:crypto";
import type { Clock } from "../clock.js";
import type { Database, Transaction } from "../db/prisma.js";
import { InvalidTokenError } from "../errors/errors.js";
import type { AccountTokenPurpose } from "../generated/prisma/enums.js";

export type TokenPurpose = AccountTokenPurpose;

/** How long each kind of link works, in seconds. */
export type TokenLifetimes = Record<TokenPurpose, number>;

export interface IssuedToken {
  token: string;
  /** What the database keeps of it. */
  tokenHash: string;
  expiresAt: Date;
  validForSeconds: number;
}

/** What a live token stands for. */
export interface TokenGrant {
  userId: string;
  purpose: TokenPurpose;
  /** The address the link was mailed to. */
  email: string;
}

// 32 random bytes in base64url: exactly 43 characters. Anything else was not issued here.
const tokenPattern = /^[A-Za-z0-9_-]{43}$/;

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/**
 * The one mechanism behind every mailed link (verification, e-mail change, password reset): 256
 * random bits, stored only as their SHA-256, single use, expiring, and replaced by a newer token of
 * the same purpose. Every way a token can be wrong is the same INVALID_TOKEN.
 */
export class SingleUseTokens {
  constructor(
    private readonly clock: Clock,
    private readonly lifetimes: TokenLifetimes,
  ) {}

  /**
   * A new token for the account and purpose, written in `tx`; earlier ones of that purpose stop
   * working. `newAccount`: the account is created in `tx`, so it has no earlier token to remove.
   */
  async issue(tx: Transaction, grant: TokenGrant, { newAccount = false } = {}): Promise<IssuedToken> {
    const token = randomBytes(32).toString("base64url");
    const now = this.clock.now();
    const validForSeconds = this.lifetimes[grant.purpose];
    const tokenHash = hashToken(token);
    const expiresAt = new Date(now.getTime() + validForSeconds * 1000);
    if (!newAccount) await tx.accountToken.deleteMany({ where: { userId: grant.userId, purpose: grant.purpose } });
    await tx.accountToken.create({ data: { ...grant, tokenHash, createdAt: now, expiresAt } });
    return { token, tokenHash, expiresAt, validForSeconds };
  }

  /**
   * What a live token grants, without using it up: callers check it before costly work (hashing a
   * new password) that a wrong token must not buy.
   */
  async inspect(
    database: Database | Transaction,
    token: string,
    purposes: TokenPurpose[],
    viewerId?: string,
  ): Promise<TokenGrant> {
    if (!tokenPattern.test(token)) throw new InvalidTokenError();
    const row = await database.accountToken.findUnique({ where: { tokenHash: hashToken(token) } });
    // A signed-in viewer may only use links of their own account.
    if (
      !row ||
      !purposes.includes(row.purpose) ||
      row.expiresAt <= this.clock.now() ||
      (viewerId && row.userId !== viewerId)
    ) {
      throw new InvalidTokenError();
    }
    return { userId: row.userId, purpose: row.purpose, email: row.email };
  }

  /**
   * Uses the token up in `tx`. The delete takes the row lock, so of concurrent redemptions exactly
   * one finds the row; if its transaction rolls back, the token works again.
   */
  async redeem(tx: Transaction, token: string, purposes: TokenPurpose[], viewerId?: string): Promise<TokenGrant> {
    const grant = await this.inspect(tx, token, purposes, viewerId);
    const { count } = await tx.accountToken.deleteMany({ where: { tokenHash: hashToken(token) } });
    if (count === 0) throw new InvalidTokenError();
    return grant;
  }

  /** Tokens past their expiry are useless: deleted by the periodic purge. */
  async purgeExpired(database: Database): Promise<number> {
    const { count } = await database.accountToken.deleteMany({ where: { expiresAt: { lt: this.clock.now() } } });
    return count;
  }
}
