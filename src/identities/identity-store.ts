import type { SecurityEvents } from "../audit/security-events.js";
import type { Database, Transaction } from "../db/prisma.js";
import { Prisma } from "../generated/prisma/client.js";
import type { ClientInfo } from "../http/client-info.js";
import type { ProviderProfile } from "./sign-in-provider.js";

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
  constructor(
    private readonly database: Database,
    private readonly audit: SecurityEvents,
  ) {}

  /** The account the person is linked to, if any: matched on issuer and subject, never on the address. */
  async linkedUserId(person: Person, tx: Pick<Transaction, "identity"> = this.database): Promise<string | null> {
    const identity = await tx.identity.findUnique({
      where: { issuer_subject: { issuer: person.issuer, subject: person.subject } },
      select: { userId: true },
    });
    return identity?.userId ?? null;
  }

  /**
   * Links the person to the account; a unique violation when another statement linked them first.
   * `tentative`: neither the provider nor the account has proven the account's address.
   */
  async link(
    tx: Transaction,
    userId: string,
    provider: string,
    profile: ProviderProfile,
    now: Date,
    tentative: boolean,
  ): Promise<void> {
    await tx.identity.create({
      data: {
        userId,
        provider,
        issuer: profile.issuer,
        subject: profile.subject,
        email: profile.email,
        linkedAt: now,
        tentative,
      },
    });
  }

  /** The signed-in owner proved the account's address: the identities linked before are theirs. */
  async confirmTentative(tx: Transaction, userId: string): Promise<void> {
    await tx.identity.updateMany({ where: { userId, tentative: true }, data: { tentative: false } });
  }

  /**
   * Whoever holds the mailbox proved the address and takes the account over (a password reset):
   * identities that never proved it go, each with its `identity_unlinked` event. Otherwise someone
   * who made the account with the victim's address at a provider that does not check addresses
   * would keep a way into it.
   */
  async dropTentative(tx: Transaction, userId: string, client: ClientInfo): Promise<void> {
    const dropped = await tx.identity.findMany({
      where: { userId, tentative: true },
      select: { id: true, provider: true },
    });
    if (dropped.length === 0) return;
    await tx.identity.deleteMany({ where: { id: { in: dropped.map((identity) => identity.id) } } });
    for (const { provider } of dropped) {
      await this.audit.record(tx, {
        kind: "identity_unlinked",
        userId,
        actorId: null,
        client,
        details: { provider, by: "password_reset" },
      });
    }
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
