import { createHash, randomBytes } from "node:crypto";

/** 256 random bits; only their SHA-256 is stored, so a database leak yields no usable token. */
export function newOpaqueToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, tokenHash: hashOpaqueToken(token) };
}

export function hashOpaqueToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
