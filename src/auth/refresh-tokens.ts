import { createHmac, randomBytes } from "node:crypto";
import { hashOpaqueToken } from "./opaque-tokens.js";

/** Refresh tokens are opaque tokens: 256 random bits, stored only as their SHA-256. */
export { hashOpaqueToken as hashRefreshToken, newOpaqueToken as newRefreshToken } from "./opaque-tokens.js";

export function newSessionId(): string {
  return randomBytes(16).toString("base64url");
}

/**
 * The token that replaces `token` at rotation: an HMAC keyed by the token itself over a random salt
 * stored with it. Only a holder of `token` can recompute it, and only with the salt, which never
 * leaves the database: so a retry within the reuse interval is answered with the same successor,
 * while a database leak (hashes and salts) still yields no usable token.
 */
export function successorToken(token: string, salt: string): { token: string; tokenHash: string } {
  const successor = createHmac("sha256", token).update(salt).digest("base64url");
  return { token: successor, tokenHash: hashOpaqueToken(successor) };
}

export function newSuccessorSalt(): string {
  return randomBytes(16).toString("base64url");
}
