import type { SecurityEvents } from "../audit/security-events.js";
import type { Viewer } from "../auth/viewer.js";
import { transactionOptions, type Database } from "../db/prisma.js";
import {
  BadUserInputError,
  InvalidCredentialsError,
  UnauthenticatedError,
  UsernameTakenError,
} from "../errors/errors.js";
import type { Outbox } from "../events/outbox.js";
import { Prisma } from "../generated/prisma/client.js";
import type { ClientInfo } from "../http/client-info.js";
import { templates } from "../mail/templates.js";
import type { CurrentPassword } from "../passwords/current-password.js";
import type { MailRequestLimiter } from "../rate-limit/mail-requests.js";
import type { SessionLifecycle } from "../sessions/session-lifecycle.js";
import { normalizeEmail, normalizeUsername } from "../users/identity.js";
import { publicUserColumns, type UserRecord } from "../users/users.service.js";
import type { AccountLinks } from "./account-links.js";
import type { SingleUseTokens } from "./single-use-tokens.js";

export interface ProfileServiceDependencies {
  database: Database;
  links: AccountLinks;
  lifecycle: SessionLifecycle;
  currentPassword: CurrentPassword;
  tokens: SingleUseTokens;
  mailRequests: MailRequestLimiter;
  audit: SecurityEvents;
  outbox: Outbox;
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

/** What the owner changes about the account: its name, its address, its existence. */
export class ProfileService {
  constructor(private readonly dependencies: ProfileServiceDependencies) {}

  /** Renames the account; `user.username_changed` goes out with the change. */
  async changeUsername(viewer: Viewer, newUsername: string): Promise<UserRecord> {
    const username = normalizeUsername(newUsername, "newUsername");
    const { database, outbox } = this.dependencies;
    const { userId } = viewer;
    try {
      await database.$transaction(async (tx) => {
        const { count } = await tx.user.updateMany({
          where: { id: userId },
          data: { username: username.display, usernameKey: username.key },
        });
        if (count === 0) throw new UnauthenticatedError();
        await outbox.emit(tx, { type: "user.username_changed", userId, data: { username: username.display } });
      }, transactionOptions);
    } catch (error) {
      if (isUniqueViolation(error)) throw new UsernameTakenError("newUsername");
      throw error;
    }
    return this.dependencies.database.user.findUniqueOrThrow({
      where: { id: viewer.userId },
      select: publicUserColumns,
    });
  }

  /**
   * Mails a confirmation link to the new address and a notice to the current one; the address
   * changes only when the link is followed (`verifyEmail`). An address another account has gets,
   * instead of the link, a notice to its owner that someone tried: the caller's answer, mails,
   * limits and earlier links are the same either way, so only that owner learns the address is
   * taken. The mails are queued in the transaction that stores the link's token.
   */
  async changeEmail(viewer: Viewer, newEmail: string, currentPassword: string, client: ClientInfo): Promise<boolean> {
    const { database, links, tokens, mailRequests } = this.dependencies;
    const address = normalizeEmail(newEmail, "newEmail");
    const user = await this.dependencies.currentPassword.verify(viewer.userId, currentPassword, client);
    if (address === user.email)
      throw new BadUserInputError("newEmail", "This is already the account's e-mail address.");
    // Counted before anything about the address is looked up: per account, and per address mailed.
    await mailRequests.attempt([`account:${user.id}`, `address:${address}`], client.ip);
    const owner = await database.user.findUnique({ where: { email: address }, select: { id: true, username: true } });
    await links.transaction(async (tx) => {
      if (owner) {
        // The statements a free address costs, so that the time taken does not tell either: the
        // token replaces a pending one as a link would, but is never sent (nobody holds it).
        await tokens.issue(tx, { userId: user.id, purpose: "change_email", email: address });
        const notice = templates.emailAlreadyInUse({ username: owner.username });
        await links.mailer.send(tx, address, notice, { userId: owner.id });
      } else {
        await links.send(tx, user, "change_email", address);
      }
      const notice = templates.emailChangeRequested({ username: user.username, newEmail: address });
      await links.mailer.send(tx, user.email, notice, { userId: user.id });
    });
    return true;
  }

  /**
   * Deletes the account and, by cascade, everything that names it (sessions, refresh tokens,
   * pending links) in the transaction that ends its sessions: its access tokens stop working at
   * once, and its address and username are free again.
   */
  async deleteAccount(viewer: Viewer, currentPassword: string, client: ClientInfo): Promise<boolean> {
    const user = await this.dependencies.currentPassword.verify(viewer.userId, currentPassword, client);
    // As a credential change: logins that checked the password meanwhile cannot start a session.
    const { lifecycle, audit } = this.dependencies;
    // The event outlives the account (the log has no foreign key), until its retention ends.
    const deleted = await lifecycle.changeCredentials(
      user.id,
      user.credentialsVersion,
      "account_deleted",
      async (tx) => {
        await audit.record(tx, { kind: "deleted", userId: user.id, actorId: user.id, client });
        return tx.user.delete({ where: { id: user.id } });
      },
    );
    // The password changed since it was checked here.
    if (!deleted) throw new InvalidCredentialsError();
    return true;
  }
}
