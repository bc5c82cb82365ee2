import { createHash, createHmac, randomBytes } from "node:crypto";

/** 256 random bits; only their SHA-256 is stored, so a database leak yields no usable token. */
export function newRefreshToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, tokenHash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

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
  return { token: successor, tokenHash: hashRefreshToken(successor) };
}

export function newSuccessorSalt(): string {
  return randomBytes(16).toString("base64url");
}
