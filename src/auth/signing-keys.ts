import { createPrivateKey, createPublicKey, KeyObject } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";

export type SigningAlgorithm = "EdDSA" | "ES256";

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
}

/** The newest key signs; every listed key verifies, so keys rotate without logging anyone out. */
export interface SigningKeys {
  signing: SigningKey;
  byKid: ReadonlyMap<string, SigningKey>;
  jwks: { keys: JWK[] };
}

export class SigningKeyError extends Error {
  override name = "SigningKeyError";
}

function algorithmOf(key: KeyObject, declared?: string): SigningAlgorithm {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec" && details?.namedCurve === "prime256v1") return "ES256";
  throw new SigningKeyError(
    `unsupported key type ${key.asymmetricKeyType ?? "?"}${declared ? ` (alg ${declared})` : ""}: use Ed25519 (EdDSA) or P-256 (ES256)`,
  );
}

async function toSigningKey(privateKey: KeyObject, kid?: string, declaredAlg?: string): Promise<SigningKey> {
  if (privateKey.type !== "private") throw new SigningKeyError("JWT_PRIVATE_KEYS must hold private keys");
  const alg = algorithmOf(privateKey, declaredAlg);
  if (declaredAlg && declaredAlg !== alg) throw new SigningKeyError(`key ${kid ?? ""} declares alg ${declaredAlg}, but is ${alg}`);
  const publicKey = createPublicKey(privateKey);
  const exported = await exportJWK(publicKey);
  const keyId = kid ?? (await calculateJwkThumbprint(exported));
  return { kid: keyId, alg, privateKey, publicKey, publicJwk: { ...exported, kid: keyId, alg, use: "sig" } };
}

const pemBlock = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/g;

/**
 * Reads `JWT_PRIVATE_KEYS`: a JWK set (`{"keys":[…]}`), a single JWK, or one or more PEM private
 * keys. Keys are listed newest first: the first signs.
 */
export async function parseSigningKeys(text: string): Promise<SigningKeys> {
  const trimmed = text.trim();
  let keys: SigningKey[];
  if (trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new SigningKeyError("JWT_PRIVATE_KEYS is neither valid JSON nor PEM");
    }
    const jwks = (parsed as { keys?: unknown }).keys ?? [parsed];
    if (!Array.isArray(jwks)) throw new SigningKeyError("JWT_PRIVATE_KEYS: `keys` must be an array");
    keys = await Promise.all(
      jwks.map((jwk: JWK) => {
        let privateKey: KeyObject;
        try {
          privateKey = createPrivateKey({ key: jwk as never, format: "jwk" });
        } catch {
          throw new SigningKeyError(`JWT_PRIVATE_KEYS: key ${jwk.kid ?? ""} is not a private JWK`);
        }
        return toSigningKey(privateKey, jwk.kid, jwk.alg);
      }),
    );
  } else {
    const blocks = trimmed.replace(/\\n/g, "\n").match(pemBlock) ?? [];
    keys = await Promise.all(
      blocks.map((pem) => {
        try {
          return toSigningKey(createPrivateKey(pem));
        } catch (error) {
          if (error instanceof SigningKeyError) throw error;
          throw new SigningKeyError("JWT_PRIVATE_KEYS holds a PEM block that is not a private key");
        }
      }),
    );
  }
  return toSigningKeys(keys);
}

export function toSigningKeys(keys: SigningKey[]): SigningKeys {
  const [signing] = keys;
  if (!signing) throw new SigningKeyError("JWT_PRIVATE_KEYS holds no key");
  const byKid = new Map<string, SigningKey>();
  for (const key of keys) {
    if (byKid.has(key.kid)) throw new SigningKeyError(`JWT_PRIVATE_KEYS lists kid ${key.kid} twice`);
    byKid.set(key.kid, key);
  }
  return { signing, byKid, jwks: { keys: keys.map((key) => key.publicJwk) } };
}

export async function generateSigningKey(alg: SigningAlgorithm = "EdDSA"): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, crv: alg === "EdDSA" ? "Ed25519" : undefined });
  return toSigningKey(KeyObject.from(privateKey));
}

export async function exportPrivateJwks(keys: SigningKey[]): Promise<string> {
  const jwks = await Promise.all(
    keys.map(async (key) => ({ ...(await exportJWK(key.privateKey)), kid: key.kid, alg: key.alg, use: "sig" })),
  );
  return JSON.stringify({ keys: jwks }, null, 2);
}

/** Development default: one key generated on first start and kept (owner-only) under DATA_DIR. */
export async function loadOrCreateDevelopmentKeys(dataDir: string): Promise<SigningKeys> {
  const file = path.join(dataDir, "jwt-private-keys.json");
  const existing = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
  if (existing !== null) return parseSigningKeys(existing);
  await mkdir(dataDir, { recursive: true });
  const key = await generateSigningKey();
  await writeFile(file, await exportPrivateJwks([key]), { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600);
  return toSigningKeys([key]);
}
