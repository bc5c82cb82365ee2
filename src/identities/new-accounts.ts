import type { Clock } from "../clock.js";
import type { Database, Transaction } from "../db/prisma.js";
import type { Outbox } from "../events/outbox.js";
import type { ClientInfo } from "../http/client-info.js";
import type { EventCounter } from "../observability/events.js";
import type { PasswordAttemptLimiter } from "../rate-limit/password-attempts.js";
import type { AuthResult, SessionLifecycle } from "../sessions/session-lifecycle.js";
import { foldIdentifier } from "../users/identity.js";
import { publicUserColumns } from "../users/users.service.js";
import type { ProviderProfile } from "./sign-in-provider.js";
import { isUniqueViolation, type IdentityStore } from "./identity-store.js";
import { baseUsername, suffixedUsername } from "./usernames.js";

export interface NewAccountsDependencies {
  database: Database;
  identities: IdentityStore;
  lifecycle: Pick<SessionLifecycle, "prepare" | "insertWithin" | "tokensFor">;
  /** Counts a new account against its client address, as `register` does (RATE_LIMITED past the limit). */
  registrations: Pick<PasswordAttemptLimiter, "registration">;
  /** Where the account's user events are written, in its transaction. */
  outbox: Pick<Outbox, "emit">;
  clock: Clock;
  onEvent: EventCounter;
}

/** Another sign-in or registration took the address or linked the identity meanwhile: decide again. */
export class SignInConflict extends Error {
  constructor() {
    super("the address or the identity was taken meanwhile");
    this.name = "SignInConflict";
  }
}

const usernameAttempts = 5;

/** Accounts made by a first sign-in with a provider. */
export class NewAccounts {
  constructor(private readonly dependencies: NewAccountsDependencies) {}

  /**
   * The account, its identity, its first session, the `registered` security event (naming the
   * provider) and its user events in one transaction. No password: `hasPassword` is false until the
   * owner sets one through a reset link. The address is verified only when the provider says so.
   * The username is derived from the provider's names and made unique with a suffix.
   */
  async create(provider: string, profile: ProviderProfile, email: string, client: ClientInfo): Promise<AuthResult> {
    const { database, identities, lifecycle, registrations, clock, onEvent } = this.dependencies;
    await registrations.registration(client.ip);
    const base = baseUsername(profile.usernameHints, email);
    for (let attempt = 0; attempt < usernameAttempts; attempt++) {
      const username = attempt === 0 ? base : suffixedUsername(base);
      const usernameKey = foldIdentifier(username);
      if (await database.user.findUnique({ where: { usernameKey }, select: { id: true } })) continue;
      const now = clock.now();
      const session = lifecycle.prepare(now, client);
      try {
        const user = await database.$transaction(async (tx) => {
          const { credentialsVersion, ...created } = await tx.user.create({
            data: {
              email,
              username,
              usernameKey,
              passwordHash: null,
              emailVerifiedAt: profile.emailVerified ? now : null,
              createdAt: now,
            },
            select: { ...publicUserColumns, credentialsVersion: true },
          });
          // An address the provider does not vouch for is proven by nobody yet.
          await identities.link(tx, created.id, provider, profile, now, !profile.emailVerified);
          const inserted = await lifecycle.insertWithin(
            tx,
            { id: created.id, credentialsVersion },
            session,
            client,
            "registered",
            { provider },
          );
          if (!inserted.stored) throw new Error("the account created in this transaction was not found");
          await this.publish(tx, created.id, { username, email, verified: profile.emailVerified }, now);
          // A new account has no other session to end; last all the same, as after every ending.
          await inserted.revoke();
          return created;
        });
        onEvent("registered");
        return await lifecycle.tokensFor(user, session);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // The address or the identity was taken meanwhile: the caller decides again. Else the username was.
        const taken = await database.user.findUnique({ where: { email }, select: { id: true } });
        if (taken || (await identities.linkedUserId(profile))) throw new SignInConflict();
      }
    }
    throw new SignInConflict();
  }

  /**
   * What other services learn of the account, as of a registration with a password: it was made,
   * and, when the provider vouched for the address, that the address is verified.
   */
  private async publish(
    tx: Transaction,
    userId: string,
    account: { username: string; email: string; verified: boolean },
    now: Date,
  ): Promise<void> {
    const { outbox } = this.dependencies;
    const { username, email } = account;
    await outbox.emit(
      tx,
      { type: "user.registered", userId, data: { username, email, createdAt: now.toISOString() } },
      now,
    );
    if (account.verified) await outbox.emit(tx, { type: "user.email_verified", userId, data: { email } }, now);
  }
}
