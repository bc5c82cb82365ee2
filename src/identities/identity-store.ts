import type { Database, Transaction } from "../db/prisma.js";
import { Prisma } from "../generated/prisma/client.js";
import type { ProviderProfile } from "./identity-provider.js";

/** A linked identity as its owner sees it. */
export interface IdentityRecord {
  id: string;
  provider: string;
  email: string | null;
  linkedAt: Date;
}

type Person = Pick<ProviderProfile, "issuer" | "subject">;

/** Another statement stored the same identity, or the same account, meanwhile (a unique key refused this one). */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

/** The `identities` table: which person at which provider signs in to which account. */
export class IdentityStore {
  constructor(private readonly database: Database) {}

  /** The account the person is linked to, if any: matched on issuer and subject, never on the address. */
  async linkedUserId(person: Person, tx: Pick<Transaction, "identity"> = this.database): Promise<string | null> {
    const identity = await tx.identity.findUnique({
      where: { issuer_subject: { issuer: person.issuer, subject: person.subject } },
      select: { userId: true },
    });
    return identity?.userId ?? null;
  }

  /** Links the person to the account; a unique violation when another statement linked them first. */
  async link(tx: Transaction, userId: string, provider: string, profile: ProviderProfile, now: Date): Promise<void> {
    await tx.identity.create({
      data: { userId, provider, issuer: profile.issuer, subject: profile.subject, email: profile.email, linkedAt: now },
    });
  }

  /** Keeps the address shown to the owner as the provider gave it at the last sign-in. */
  async rememberEmail(profile: ProviderProfile): Promise<void> {
    await this.database.identity.updateMany({
      where: { issuer: profile.issuer, subject: profile.subject },
      data: { email: profile.email },
    });
  }

  async list(userId: string): Promise<IdentityRecord[]> {
    return this.database.identity.findMany({
      where: { userId },
      orderBy: [{ linkedAt: "asc" }, { id: "asc" }],
      select: { id: true, provider: true, email: true, linkedAt: true },
    });
  }
}
