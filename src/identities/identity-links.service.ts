import type { SecurityEvents } from "../audit/security-events.js";
import type { Clock } from "../clock.js";
import type { Viewer } from "../auth/viewer.js";
import type { Database, Transaction } from "../db/prisma.js";
import {
  AccountLockedError,
  IdentityAlreadyLinkedError,
  LastSignInMethodError,
  UnauthenticatedError,
} from "../errors/errors.js";
import type { ClientInfo } from "../http/client-info.js";
import type { Mailer } from "../mail/mailer.js";
import { templates } from "../mail/templates.js";
import type { Logger } from "../observability/logger.js";
import type { AuthResult, SessionLifecycle } from "../sessions/session-lifecycle.js";
import { isUserId } from "../users/identity.js";
import { hasSignInMethodOtherThan } from "../users/sign-in-methods.js";
import type { LoginAccount, UsersService } from "../users/users.service.js";
import type { ProviderProfile } from "./sign-in-provider.js";
import { isUniqueViolation, type IdentityRecord, type IdentityStore } from "./identity-store.js";
import { decideLink } from "./linking-policy.js";
import { SignInConflict } from "./new-accounts.js";

export interface IdentityLinksDependencies {
  database: Database;
  identities: IdentityStore;
  users: Pick<UsersService, "findForLoginById">;
  lifecycle: Pick<SessionLifecycle, "prepare" | "insertWithin" | "tokensFor" | "changeCredentials">;
  audit: SecurityEvents;
  mailer: Mailer;
  logger: Logger;
  clock: Clock;
  /** The name a provider's id stands for, for the owner's mails. */
  providerName: (id: string) => string;
}

/** Which identities sign in to an account: linking them, unlinking them, listing them. */
export class IdentityLinks {
  constructor(private readonly dependencies: IdentityLinksDependencies) {}

  /**
   * A sign-in whose provider and account both vouch for the address links the identity (the
   * provider's word acted: no actor), and the owner is told by mail, queued with the link.
   */
  async linkByAddress(
    account: Pick<LoginAccount, "user" | "passwordHash">,
    provider: string,
    profile: ProviderProfile,
    client: ClientInfo,
  ): Promise<void> {
    const { database, identities, audit, clock } = this.dependencies;
    const { user } = account;
    try {
      await database.$transaction(async (tx) => {
        await identities.link(tx, user.id, provider, profile, clock.now(), false);
        await audit.record(tx, {
          kind: "identity_linked",
          userId: user.id,
          actorId: null,
          client,
          details: { provider, by: "verified_email" },
        });
        await this.notify(tx, user.id, ownerOf(account), templates.identityLinked, provider);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new SignInConflict();
      throw error;
    }
  }

  /**
   * The completion of `linkIdentity`: the identity is linked to the account that started it, and a
   * session starts for that account, the link, its `identity_linked` event, the owner's notice and
   * the session in one transaction. IDENTITY_ALREADY_LINKED when another account has the identity.
   */
  async completeLink(
    userId: string,
    provider: string,
    profile: ProviderProfile,
    client: ClientInfo,
  ): Promise<AuthResult> {
    const { database, identities, users, lifecycle, clock } = this.dependencies;
    const account = await users.findForLoginById(userId);
    if (!account) throw new UnauthenticatedError();
    const now = clock.now();
    const session = lifecycle.prepare(now, client);
    const outcome = await database
      .$transaction(async (tx) => {
        const decision = decideLink(await identities.linkedUserId(profile, tx), userId);
        if (decision === "linked-elsewhere") throw new IdentityAlreadyLinkedError();
        const kind = decision === "link" ? "identity_linked" : "login_succeeded";
        const credentials = { id: userId, credentialsVersion: account.credentialsVersion };
        // The session first: it locks the account's row before the identity's foreign key takes a
        // weaker lock on it, which a concurrent unlink or deletion (waiting to lock the row for
        // itself) would otherwise deadlock with.
        const { stored, revoke } = await lifecycle.insertWithin(tx, credentials, session, client, kind, { provider });
        // The account's credentials changed (its sessions ended) since it was read, or it was locked.
        if (!stored) throw new UnauthenticatedError();
        if (stored.locked) throw new AccountLockedError();
        if (decision === "link") {
          // Tentative while neither side has proven the account's address.
          const vouched =
            account.user.emailVerifiedAt !== null || (profile.emailVerified && profile.email === account.user.email);
          await identities.link(tx, userId, provider, profile, now, !vouched);
          await this.notify(tx, userId, ownerOf(account), templates.identityLinked, provider);
        }
        // Past MAX_SESSIONS_PER_ACCOUNT, the least recently used sessions ended: last, as after every ending.
        await revoke();
        return { roles: stored.roles };
      })
      .catch((error: unknown) => {
        // Linked to another account by a concurrent statement.
        if (isUniqueViolation(error)) throw new IdentityAlreadyLinkedError();
        throw error;
      });
    return lifecycle.tokensFor({ ...account.user, roles: outcome.roles }, session);
  }

  /**
   * Unlinks one of the viewer's identities: false when they have no such identity. Never the last
   * way in (LAST_SIGN_IN_METHOD for the only identity of an account without a password or a passkey). As a
   * credential change, the viewer's other sessions end and a sign-in with the identity that is under
   * way cannot start a session afterwards; the owner is told by mail, queued with the change.
   */
  async unlink(viewer: Viewer, identityId: string, client: ClientInfo): Promise<boolean> {
    const { database, lifecycle, audit } = this.dependencies;
    const { userId } = viewer;
    const where = { id: identityId.toLowerCase(), userId };
    if (!isUserId(identityId) || !(await database.identity.findFirst({ where, select: { id: true } }))) return false;
    const unlinked = await lifecycle
      .changeCredentials(
        userId,
        undefined,
        "identity_unlinked",
        async (tx) => {
          // The account's row is held: concurrent unlinks of its identities, and removals of its passkeys, queue here.
          const user = await tx.user.findUniqueOrThrow({
            where: { id: userId },
            select: { username: true, email: true, passwordHash: true },
          });
          const identity = await tx.identity.findFirst({ where, select: { id: true, provider: true } });
          // Unlinked by a concurrent request: roll back, so that nothing else changes either.
          if (!identity) throw new IdentityGone();
          if (!(await hasSignInMethodOtherThan(tx, userId, { kind: "identity", id: identity.id })))
            throw new LastSignInMethodError();
          await tx.identity.delete({ where: { id: identity.id } });
          await audit.record(tx, {
            kind: "identity_unlinked",
            userId,
            actorId: userId,
            client,
            details: { provider: identity.provider },
          });
          const owner = ownerOf({ user, passwordHash: user.passwordHash });
          await this.notify(tx, userId, owner, templates.identityUnlinked, identity.provider);
          return true;
        },
        viewer.sessionId,
      )
      .catch((error: unknown) => {
        if (error instanceof IdentityGone) return false as const;
        throw error;
      });
    if (unlinked === null) throw new UnauthenticatedError();
    return unlinked;
  }

  /** For the verification of the account's address by its signed-in owner, in its transaction. */
  confirmTentative(tx: Transaction, userId: string): Promise<void> {
    return this.dependencies.identities.confirmTentative(tx, userId);
  }

  /** For a password reset, which proves the mailbox, in its transaction. */
  dropTentative(tx: Transaction, userId: string, client: ClientInfo): Promise<void> {
    return this.dependencies.identities.dropTentative(tx, userId, client);
  }

  list(userId: string): Promise<IdentityRecord[]> {
    return this.dependencies.identities.list(userId);
  }

  async hasPassword(userId: string): Promise<boolean> {
    const user = await this.dependencies.database.user.findUnique({
      where: { id: userId },
      select: { passwordHash: true },
    });
    return Boolean(user?.passwordHash);
  }

  /** The owner's notice, queued in the transaction of the change it tells of. */
  private async notify(
    tx: Transaction,
    userId: string,
    owner: Owner,
    template: typeof templates.identityLinked,
    provider: string,
  ): Promise<void> {
    const { mailer, logger, providerName } = this.dependencies;
    const { email, ...named } = owner;
    await mailer.notify(tx, email, template({ ...named, provider: providerName(provider) }), { userId }, logger);
  }
}

/** Whom a notice goes to, and whether the account has a password to change if the change was not theirs. */
interface Owner {
  username: string;
  email: string;
  hasPassword: boolean;
}

function ownerOf(account: { user: { username: string; email: string }; passwordHash: string | null }): Owner {
  return { username: account.user.username, email: account.user.email, hasPassword: account.passwordHash !== null };
}

class IdentityGone extends Error {}
