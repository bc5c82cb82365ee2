import { createPrivateKey, createPublicKey, KeyObject } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";
import { StartupError } from "../startup-error.js";

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
    `holds an unsupported key type ${key.asymmetricKeyType ?? "?"}${declared ? ` (alg ${declared})` : ""}: use P-256 (ES256) or Ed25519 (EdDSA)`,
  );
}

/** A private key as read from the text, before its public half is derived. */
interface PrivateKeyEntry {
  privateKey: KeyObject;
  alg: SigningAlgorithm;
  kid?: string;
}

function checkedEntry(privateKey: KeyObject, kid?: string, declaredAlg?: string): PrivateKeyEntry {
  if (privateKey.type !== "private") throw new SigningKeyError("must hold private keys");
  const alg = algorithmOf(privateKey, declaredAlg);
  if (declaredAlg && declaredAlg !== alg)
    throw new SigningKeyError(`key ${kid ?? "without kid"} declares alg ${declaredAlg}, but is ${alg}`);
  return { privateKey, alg, kid };
}

const pemBlock = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/g;

const expectedForms =
  'expected a JWK set ({"keys":[…]}), one JWK, or PEM private keys; `npm run keys` prints a fresh set';

/**
 * Reads `JWT_PRIVATE_KEYS`: a JWK set (`{"keys":[…]}`), a single JWK, or one or more PEM private
 * keys, newest first. Synchronous, so the configuration checks it at start-up; throws
 * SigningKeyError with a message that completes "JWT_PRIVATE_KEYS …".
 */
export function readPrivateKeys(text: string): PrivateKeyEntry[] {
  const trimmed = text.trim();
  let entries: PrivateKeyEntry[];
  if (trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new SigningKeyError(`is not valid JSON: ${expectedForms}`);
    }
    const jwks = (parsed as { keys?: unknown }).keys ?? [parsed];
    if (!Array.isArray(jwks)) throw new SigningKeyError("`keys` must be an array");
    entries = jwks.map((jwk: JWK) => {
      let privateKey: KeyObject;
      try {
        privateKey = createPrivateKey({ key: jwk as never, format: "jwk" });
      } catch {
        throw new SigningKeyError(`key ${jwk.kid ?? "without kid"} is not a private JWK`);
      }
      return checkedEntry(privateKey, jwk.kid, jwk.alg);
    });
  } else {
    const blocks = trimmed.replace(/\\n/g, "\n").match(pemBlock) ?? [];
    entries = blocks.map((pem) => {
      try {
        return checkedEntry(createPrivateKey(pem));
      } catch (error) {
        if (error instanceof SigningKeyError) throw error;
        throw new SigningKeyError("holds a PEM block that is not a private key");
      }
    });
  }
  if (entries.length === 0) throw new SigningKeyError(`holds no key: ${expectedForms}`);
  return entries;
}

async function toSigningKey({ privateKey, alg, kid }: PrivateKeyEntry): Promise<SigningKey> {
  const publicKey = createPublicKey(privateKey);
  const exported = await exportJWK(publicKey);
  const keyId = kid ?? (await calculateJwkThumbprint(exported));
  return { kid: keyId, alg, privateKey, publicKey, publicJwk: { ...exported, kid: keyId, alg, use: "sig" } };
}

export async function parseSigningKeys(text: string): Promise<SigningKeys> {
  return toSigningKeys(await Promise.all(readPrivateKeys(text).map(toSigningKey)));
}

export function toSigningKeys(keys: SigningKey[]): SigningKeys {
  const [signing] = keys;
  if (!signing) throw new SigningKeyError("holds no key");
  const byKid = new Map<string, SigningKey>();
  for (const key of keys) {
    if (byKid.has(key.kid)) throw new SigningKeyError(`lists kid ${key.kid} twice`);
    byKid.set(key.kid, key);
  }
  return { signing, byKid, jwks: { keys: keys.map((key) => key.publicJwk) } };
}

/** ES256 by default: every common verifier (routers' JWT plugins, `jsonwebtoken`) accepts it. */
export async function generateSigningKey(alg: SigningAlgorithm = "ES256"): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    crv: alg === "EdDSA" ? "Ed25519" : undefined,
  });
  return toSigningKey(checkedEntry(KeyObject.from(privateKey)));
}

/** The private JWK set, as JWT_PRIVATE_KEYS takes it; `indent` 0 puts it on one line. */
export async function exportPrivateJwks(keys: SigningKey[], indent = 2): Promise<string> {
  const jwks = await Promise.all(
    keys.map(async (key) => ({ ...(await exportJWK(key.privateKey)), kid: key.kid, alg: key.alg, use: "sig" })),
  );
  return JSON.stringify({ keys: jwks }, null, indent);
}

/** Development default: one key generated on first start and kept (owner-only) under DATA_DIR. */
export async function loadOrCreateDevelopmentKeys(dataDir: string): Promise<SigningKeys> {
  const file = path.join(dataDir, "jwt-private-keys.json");
  const existing = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
  if (existing !== null) {
    return parseSigningKeys(existing).catch((error: unknown) => {
      throw error instanceof SigningKeyError
        ? new StartupError(`the development key file ${file} ${error.message}: fix or delete it`)
        : error;
    });
  }
  await mkdir(dataDir, { recursive: true });
  const key = await generateSigningKey();
  await writeFile(file, await exportPrivateJwks([key]), { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600);
  return toSigningKeys([key]);
}
