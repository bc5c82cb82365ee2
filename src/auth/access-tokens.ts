import { randomUUID } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT, type JWTHeaderParameters } from "jose";
import type { Clock } from "../clock.js";
import { impliedRole } from "./roles.js";
import type { SigningKeys } from "./signing-keys.js";

export interface AccessTokenClaims {
  userId: string;
  sessionId: string;
  /** The account's roles when the token was issued, `user` included. */
  roles: string[];
  tokenId: string;
  expiresAt: Date;
}

export interface AccessTokenSettings {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

export class InvalidAccessTokenError extends Error {
  override name = "InvalidAccessTokenError";
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * How far ahead of this instance's clock another instance's may run: a token issued (`iat`) or
 * valid from (`nbf`) up to this many seconds in the future is accepted. Expiry has no tolerance:
 * a session's revocation is remembered exactly until its newest token expires.
 */
export const clockToleranceSeconds = 30;

/** Enough for every client active within one token lifetime on a busy instance; a few MB at most. */
const verifiedTokenCacheSize = 10_000;

/**
 * Short-lived JWTs naming the user (`sub`), the session (`sid`) that revocation can end, and the
 * account's `roles`, so that the router and other subgraphs can authorize from the token alone.
 */
export class AccessTokens {
  private readonly algorithms: string[];
  /**
   * A client presents the same token on every request until it expires: checking its signature
   * once is enough. Keyed by the whole token, signature included, so a forged one never matches;
   * revocation is not cached here, the caller checks it on every request.
   */
  private readonly verified = new Map<string, AccessTokenClaims>();

  constructor(
    private readonly keys: SigningKeys,
    private readonly settings: AccessTokenSettings,
    private readonly clock: Clock,
  ) {
    this.algorithms = [...new Set([...keys.byKid.values()].map((key) => key.alg))];
  }

  /**
   * `roles`: every role of the account, `user` included. `at`: the instant the session recorded for
   * this token, so that the token expires no later than `expiryOf(at)`, which its revocation is kept for.
   */
  async issue(
    userId: string,
    sessionId: string,
    roles: readonly string[],
    at: Date = this.clock.now(),
  ): Promise<{ token: string; expiresAt: Date }> {
    const { signing } = this.keys;
    const issuedAt = Math.floor(at.getTime() / 1000);
    const expiresAtSeconds = issuedAt + this.settings.ttlSeconds;
    const token = await new SignJWT({ sid: sessionId, roles: [...roles] })
      .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: "JWT" })
      .setSubject(userId)
      .setJti(randomUUID())
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(expiresAtSeconds)
      .sign(signing.privateKey);
    return { token, expiresAt: new Date(expiresAtSeconds * 1000) };
  }

  /** The latest instant a token issued at `at` can be valid until. */
  expiryOf(at: Date): Date {
    return new Date(at.getTime() + this.settings.ttlSeconds * 1000);
  }

  /** Checks signature, algorithm, issuer, audience and lifetime; throws InvalidAccessTokenError. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const cached = this.verified.get(token);
    if (cached) {
      // The same rule as the full check: a token is no longer valid from the second its `exp` names.
      if (Math.floor(this.clock.now().getTime() / 1000) < cached.expiresAt.getTime() / 1000) return cached;
      this.verified.delete(token);
    }
    const claims = await this.verifySignatureAndClaims(token);
    // Oldest first: Map keeps insertion order.
    if (this.verified.size >= verifiedTokenCacheSize) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, claims);
    return claims;
  }

  private async verifySignatureAndClaims(token: string): Promise<AccessTokenClaims> {
    try {
      const now = this.clock.now();
      const { payload } = await jwtVerify(token, (header: JWTHeaderParameters) => this.keyFor(header), {
        algorithms: this.algorithms,
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        currentDate: now,
        // jose applies it to `nbf` and to `exp`: `checkLifetime` checks `exp` again without it.
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ["sub", "sid", "jti", "iat", "exp"],
      });
      // Tokens signed before roles were added carry none: the implied role only.
      const { sub, sid, jti, iat, exp, roles = [impliedRole] } = payload;
      if (
        typeof sub !== "string" ||
        !uuid.test(sub) ||
        typeof sid !== "string" ||
        typeof jti !== "string" ||
        !Array.isArray(roles) ||
        !roles.every((role) => typeof role === "string")
      ) {
        throw new InvalidAccessTokenError("malformed claims");
      }
      // jose checked that both are present and numbers.
      this.checkLifetime(iat!, exp!, now);
      return { userId: sub, sessionId: sid, roles, tokenId: jti, expiresAt: new Date(exp! * 1000) };
    } catch (error) {
      if (error instanceof InvalidAccessTokenError) throw error;
      if (error instanceof joseErrors.JOSEError || error instanceof TypeError) {
        throw new InvalidAccessTokenError(error.message);
      }
      throw error;
    }
  }

  /**
   * Issued no further in the future than the clock tolerance, not expired (from its `exp` second
   * on), and living no longer than ACCESS_TOKEN_TTL says now, so that even a token minted with a
   * leaked signing key expires as ours do. One issued under a longer TTL than the current one is
   * refused; its client refreshes.
   */
  private checkLifetime(issuedAt: number, expiresAt: number, now: Date): void {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    if (issuedAt > nowSeconds + clockToleranceSeconds) throw new InvalidAccessTokenError("issued in the future");
    if (expiresAt <= nowSeconds) throw new InvalidAccessTokenError("expired");
    if (expiresAt - issuedAt > this.settings.ttlSeconds)
      throw new InvalidAccessTokenError("lifetime longer than ACCESS_TOKEN_TTL");
  }

  private keyFor(header: JWTHeaderParameters) {
    const key = header.kid === undefined ? undefined : this.keys.byKid.get(header.kid);
    if (!key || key.alg !== header.alg) throw new InvalidAccessTokenError("unknown signing key");
    return key.publicKey;
  }
}
