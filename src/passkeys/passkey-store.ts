import { randomBytes } from "node:crypto";
import type { Database, Transaction } from "../db/prisma.js";
import type { Passkey as PasskeyRow } from "../generated/prisma/client.js";
import type { RegisteredCredential } from "./relying-party.js";

/** A passkey as the service reads it: its counter as a number (it fits: at most 2³² − 1). */
export type StoredPasskey = Omit<PasskeyRow, "signCount" | "publicKey"> & {
  signCount: number;
  publicKey: Uint8Array<ArrayBuffer>;
};

/** The fields its owner sees. */
export type PasskeyRecord = Pick<
  StoredPasskey,
  "id" | "name" | "createdAt" | "lastUsedAt" | "backedUp" | "deviceType" | "transports"
>;

/** Anything that can write: a transaction or the database itself. */
type Writer = Pick<Transaction, "passkey" | "$executeRaw">;

function toStored(row: PasskeyRow): StoredPasskey {
  return { ...row, signCount: Number(row.signCount), publicKey: new Uint8Array(row.publicKey) };
}

/** The passkeys table, and the user handle every passkey of an account carries. */
export class PasskeyStore {
  constructor(private readonly database: Database) {}

  /** The account's passkeys, oldest first. */
  async listOf(userId: string): Promise<StoredPasskey[]> {
    const rows = await this.database.passkey.findMany({
      where: { userId },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    });
    return rows.map(toStored);
  }

  /** The passkey a credential id names, with its account's user handle. */
  async findByCredentialId(credentialId: string): Promise<(StoredPasskey & { userHandle: string | null }) | null> {
    const row = await this.database.passkey.findUnique({
      where: { credentialId },
      include: { user: { select: { passkeyUserHandle: true } } },
    });
    if (!row) return null;
    const { user, ...passkey } = row;
    return { ...toStored(passkey), userHandle: user.passkeyUserHandle };
  }

  /** The account's user handle (32 random bytes, base64url), made the first time it is asked for; null when the account is gone. */
  async userHandleOf(userId: string): Promise<string | null> {
    const rows = await this.database.$queryRaw<{ handle: string }[]>`
      UPDATE users SET passkey_user_handle = COALESCE(passkey_user_handle, ${randomBytes(32).toString("base64url")})
      WHERE id = ${userId}::uuid RETURNING passkey_user_handle AS handle`;
    return rows[0]?.handle ?? null;
  }

  /** `tentative`: the account's address is unproven (see `Passkey.tentative`). */
  async insert(
    tx: Writer,
    userId: string,
    credential: RegisteredCredential,
    name: string,
    now: Date,
    tentative: boolean,
  ): Promise<StoredPasskey> {
    const { credentialId, publicKey, signCount, transports, backedUp, deviceType, aaguid } = credential;
    const row = await tx.passkey.create({
      data: {
        userId,
        credentialId,
        publicKey,
        signCount: BigInt(signCount),
        transports,
        backedUp,
        deviceType,
        aaguid,
        name,
        createdAt: now,
        tentative,
      },
    });
    return toStored(row);
  }

  /**
   * Records a verified use: the new counter, backup state and time, only while the stored counter
   * is still below it (or both are 0). False when the passkey is gone or another use got there first.
   */
  async recordUse(
    writer: Writer,
    passkey: StoredPasskey,
    use: { signCount: number; backedUp: boolean; at: Date },
  ): Promise<boolean> {
    const updated = await writer.$executeRaw`
      UPDATE passkeys SET sign_count = ${use.signCount}, backed_up = ${use.backedUp}, last_used_at = ${use.at}
      WHERE id = ${passkey.id}::uuid AND (sign_count < ${use.signCount} OR (sign_count = 0 AND ${use.signCount} = 0))`;
    return updated === 1;
  }
}
