import { EncryptionKeyError, type EncryptionKeys } from "../auth/encryption-keys.js";
import type { Database } from "../db/prisma.js";
import { openTotpSecret, sealTotpSecret } from "./second-factor.js";

const batchSize = 200;

/** How many stored secrets each key id seals. */
async function secretsByKeyId(database: Database): Promise<Map<string, number>> {
  const groups = await database.totpFactor.groupBy({ by: ["secretKeyId"], _count: { _all: true } });
  return new Map(groups.map((group) => [group.secretKeyId, group._count._all]));
}

/**
 * Refuses keys that cannot open every stored secret: a key removed before the re-encryption would
 * otherwise lock its accounts out (MFA is never silently turned off).
 */
export async function assertSecretsReadable(database: Database, keys: EncryptionKeys): Promise<void> {
  const missing = [...(await secretsByKeyId(database))].filter(([keyId]) => !keys.keyIds.includes(keyId));
  if (missing.length === 0) return;
  const listed = missing.map(([keyId, count]) => `${keyId} (${count} secret${count === 1 ? "" : "s"})`).join(", ");
  throw new EncryptionKeyError(
    `ENCRYPTION_KEYS lacks key ${listed} that stored secrets are sealed with: list it again after the newest key, run the re-encryption command, and only then remove it`,
  );
}

export interface ReencryptionReport {
  reencrypted: number;
  /** Secrets still under an older key afterwards: written meanwhile by an instance that does not know the newest key yet. */
  remaining: number;
}

/**
 * Seals every stored secret with the newest key, in batches. A row changed meanwhile (a new
 * enrolment) is left as it is: it was sealed anew anyway.
 */
export async function reencryptSecrets(database: Database, keys: EncryptionKeys): Promise<ReencryptionReport> {
  await assertSecretsReadable(database, keys);
  const current = keys.currentKeyId;
  let reencrypted = 0;
  let after: string | undefined;
  for (;;) {
    const batch = await database.totpFactor.findMany({
      where: { secretKeyId: { not: current }, ...(after ? { userId: { gt: after } } : {}) },
      select: { userId: true, secretKeyId: true, secretCiphertext: true },
      orderBy: { userId: "asc" },
      take: batchSize,
    });
    if (batch.length === 0) break;
    for (const factor of batch) {
      const sealed = sealTotpSecret(keys, factor.userId, openTotpSecret(keys, factor.userId, factor));
      const { count } = await database.totpFactor.updateMany({
        where: factor,
        data: { secretKeyId: sealed.keyId, secretCiphertext: sealed.ciphertext },
      });
      reencrypted += count;
    }
    after = batch.at(-1)!.userId;
  }
  const remaining = await database.totpFactor.count({ where: { secretKeyId: { not: current } } });
  return { reencrypted, remaining };
}
