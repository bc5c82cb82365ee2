import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/** A secret sealed with AES-256-GCM, and the id of the key that sealed it (stored beside it). */
export interface Sealed {
  keyId: string;
  /** base64url of nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes). */
  ciphertext: string;
}

export class EncryptionKeyError extends Error {
  override name = "EncryptionKeyError";
}

const keyBytes = 32;
const nonceBytes = 12;
const tagBytes = 16;
const keyIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * `ENCRYPTION_KEYS`, newest first: the first seals, every listed key opens, so keys rotate without
 * losing a secret. Each is `<key id>:<32 random bytes in base64 or base64url>`, separated by commas
 * or whitespace.
 */
export class EncryptionKeys {
  private constructor(private readonly keys: ReadonlyMap<string, Buffer>) {}

  static parse(text: string): EncryptionKeys {
    const keys = new Map<string, Buffer>();
    for (const entry of text
      .trim()
      .split(/[\s,]+/)
      .filter(Boolean)) {
      const separator = entry.indexOf(":");
      const keyId = entry.slice(0, separator);
      if (separator < 0 || !keyIdPattern.test(keyId)) {
        throw new EncryptionKeyError(
          "ENCRYPTION_KEYS: each key is <key id>:<base64 key>, the id of letters, digits, '.', '_' or '-'",
        );
      }
      const key = Buffer.from(entry.slice(separator + 1), "base64");
      if (key.length !== keyBytes)
        throw new EncryptionKeyError(`ENCRYPTION_KEYS: key ${keyId} is not 32 bytes of base64`);
      if (keys.has(keyId)) throw new EncryptionKeyError(`ENCRYPTION_KEYS lists key id ${keyId} twice`);
      keys.set(keyId, key);
    }
    if (keys.size === 0) throw new EncryptionKeyError("ENCRYPTION_KEYS holds no key");
    return new EncryptionKeys(keys);
  }

  /** A new key in the form `ENCRYPTION_KEYS` takes. */
  static generate(keyId = `k${Date.now().toString(36)}`): string {
    return `${keyId}:${randomBytes(keyBytes).toString("base64")}`;
  }

  /** The key that seals; the others only open. */
  get currentKeyId(): string {
    return this.keys.keys().next().value!;
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** A 32-byte key for `purpose` (HKDF-SHA-256 of the sealing key): the same on every instance given the same keys. */
  derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync("sha256", this.keys.get(this.currentKeyId)!, Buffer.alloc(0), purpose, keyBytes));
  }

  /**
   * `context` (e.g. the owner's id and the secret's purpose) is authenticated with the ciphertext:
   * a ciphertext copied onto another row does not open.
   */
  seal(plaintext: string, context: string): Sealed {
    const keyId = this.currentKeyId;
    const nonce = randomBytes(nonceBytes);
    const cipher = createCipheriv("aes-256-gcm", this.keys.get(keyId)!, nonce);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return { keyId, ciphertext: Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64url") };
  }

  /** The plaintext; EncryptionKeyError when the key is no longer listed or the ciphertext was altered. */
  open(sealed: Sealed, context: string): string {
    const key = this.keys.get(sealed.keyId);
    if (!key) {
      throw new EncryptionKeyError(
        `a secret is sealed with encryption key ${sealed.keyId}, which ENCRYPTION_KEYS no longer lists: put it back (after the newest key) and run the re-encryption command before removing it`,
      );
    }
    const bytes = Buffer.from(sealed.ciphertext, "base64url");
    if (bytes.length < nonceBytes + tagBytes) throw new EncryptionKeyError("a sealed secret is truncated");
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, nonceBytes));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
    try {
      return Buffer.concat([
        decipher.update(bytes.subarray(nonceBytes, bytes.length - tagBytes)),
        decipher.final(),
      ]).toString("utf8");
    } catch {
      throw new EncryptionKeyError(
        `a secret sealed with encryption key ${sealed.keyId} does not open: altered, or moved from another row`,
      );
    }
  }
}

/** Development default: one key generated on first start and kept (owner-only) under DATA_DIR, like the signing key. */
export async function loadOrCreateDevelopmentEncryptionKeys(dataDir: string): Promise<EncryptionKeys> {
  const file = path.join(dataDir, "encryption-keys");
  const existing = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
  if (existing !== null) return EncryptionKeys.parse(existing);
  await mkdir(dataDir, { recursive: true });
  const generated = EncryptionKeys.generate("development");
  await writeFile(file, `${generated}\n`, { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600);
  return EncryptionKeys.parse(generated);
}
