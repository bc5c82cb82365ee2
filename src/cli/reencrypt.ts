// Seals every stored secret with the newest key of ENCRYPTION_KEYS, so that older keys can then be
// removed: `npm run reencrypt` (or `node dist/cli/reencrypt.js`). Safe to run while the service runs,
// and again.
import { EncryptionKeyError, EncryptionKeys } from "../auth/encryption-keys.js";
import { createDatabase } from "../db/prisma.js";
import { reencryptSecrets } from "../mfa/reencryption.js";

const { DATABASE_URL: databaseUrl, ENCRYPTION_KEYS: encryptionKeys } = process.env;
if (!databaseUrl || !encryptionKeys) {
  console.error("DATABASE_URL and ENCRYPTION_KEYS (newest key first, every older key still listed) are required");
  process.exit(1);
}
const database = createDatabase(databaseUrl, { poolSize: 2 });
try {
  const keys = EncryptionKeys.parse(encryptionKeys);
  const { reencrypted, remaining } = await reencryptSecrets(database, keys);
  console.log(`Re-encrypted ${reencrypted} secret${reencrypted === 1 ? "" : "s"} with key ${keys.currentKeyId}.`);
  if (remaining > 0) {
    console.error(
      `${remaining} secrets are still under older keys: an instance without key ${keys.currentKeyId} wrote them. Deploy the new ENCRYPTION_KEYS everywhere, then run this again.`,
    );
    process.exitCode = 1;
  }
} catch (error) {
  if (!(error instanceof EncryptionKeyError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
} finally {
  await database.$disconnect();
}
