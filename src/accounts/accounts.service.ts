import type { SecurityEvents } from "../audit/security-events.js";
import type { PasswordHasher } from "../auth/password-hasher.js";
import { assertStrongPassword } from "../auth/password-policy.js";
import type { Viewer } from "../auth/viewer.js";
import type { Clock } from "../clock.js";
import type { Database } from "../db/prisma.js";
import type { Outbox } from "../events/outbox.js";
import { EmailTakenError, InvalidCredentialsError, UsernameTakenError } from "../errors/errors.js";
import { Prisma } from "../generated/prisma/client.js";
import type { ClientInfo } from "../http/client-info.js";
import type { EventCounter } from "../observability/events.js";
import type { CurrentPassword } from "../passwords/current-password.js";
import type { PasswordAttemptLimiter } from "../rate-limit/password-attempts.js";
import type { AuthResult, SessionLifecycle } from "../sessions/session-lifecycle.js";
import { normalizeEmail, normalizeUsername } from "../users/identity.js";
import { publicUserColumns } from "../users/users.service.js";
import type { AccountLinks } from "./account-links.js";

export interface AccountsServiceDependencies {
  database: Database;
  lifecycle: SessionLifecycle;
  links: AccountLinks;
  hasher: PasswordHasher;
  currentPassword: CurrentPassword;
  passwordAttempts: PasswordAttemptLimiter;
  audit: SecurityEvents;
  outbox: Outbox;
  clock: Clock;
  onEvent: EventCounter;
}

/** Accounts and their credentials: registration and password changes. */
export class AccountsService {
  constructor(private readonly dependencies: AccountsServiceDependencies) {}

  /**
   * Creates the account with its first session, its verification link (the mail queued) and its
   * `user.registered` event, in one transaction. The answer does not wait for the mail server.
   */
  async register(
    input: { email: string; username: string; password: string },
    client: ClientInfo = {},
  ): Promise<AuthResult> {
    const { links, hasher, lifecycle, passwordAttempts, outbox, clock, onEvent } = this.dependencies;
    const email = normalizeEmail(input.email);
    const username = normalizeUsername(input.username);
    assertStrongPassword(input.password);
    // Counted once the input is valid: a typo does not cost an attempt, but every hash does.
    await passwordAttempts.registration(client.ip);
    await this.assertAvailable(email, username.key);
    const passwordHash = await hasher.hash(input.password);
    const now = clock.now();
    const session = lifecycle.prepare(now, client);
    try {
      const user = await links.transaction(async (tx) => {
        const { credentialsVersion, ...created } = await tx.user.create({
          data: {
            ...{ email, username: username.display, usernameKey: username.key, passwordHash, createdAt: now },
            // Nobody has proved the address yet: the password may be someone else's than the mailbox's.
            passwordTentative: true,
          },
          select: { ...publicUserColumns, credentialsVersion: true },
        });
        const inserted = await lifecycle.insertWithin(
          tx,
          { id: created.id, credentialsVersion },
          session,
          client,
          "registered",
        );
        if (!inserted.stored) throw new Error("the account created in this transaction was not found");
        await links.send(tx, created, "verify_email", email, { newAccount: true });
        const data = { username: created.username, email, createdAt: now.toISOString() };
        await outbox.emit(tx, { type: "user.registered", userId: created.id, data }, now);
        // A new account has no other session to end; last all the same, as after every ending.
        await inserted.revoke();
        return created;
      });
      onEvent("registered");
      return await lifecycle.tokensFor(user, session);
    } catch (error) {
      // Lost a race with a concurrent registration of the same name or address.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
        await this.assertAvailable(email, username.key);
      }
      throw error;
    }
  }

  /**
   * Every session of the account ends, the presenting one included; the returned pair starts the
   * only session left.
   */
  async changePassword(
    viewer: Viewer,
    currentPassword: string,
    newPassword: string,
    client: ClientInfo = {},
  ): Promise<AuthResult> {
    const { hasher, lifecycle, audit, clock } = this.dependencies;
    const user = await this.dependencies.currentPassword.verify(viewer.userId, currentPassword, client);
    assertStrongPassword(newPassword, "newPassword");
    const passwordHash = await hasher.hash(newPassword);
    const session = lifecycle.prepare(clock.now(), client);
    // Only if the password just checked is still the current one.
    const updated = await lifecycle.changeCredentials(
      user.id,
      user.credentialsVersion,
      "password_changed",
      async (tx) => {
        const changed = await tx.user.update({
          where: { id: user.id },
          data: { passwordHash },
          select: publicUserColumns,
        });
        await tx.session.create({ data: { ...session.row, userId: user.id } });
        await audit.record(tx, { kind: "password_changed", userId: user.id, actorId: user.id, client });
        return changed;
      },
    );
    if (!updated) throw new InvalidCredentialsError();
    return lifecycle.tokensFor(updated, session);
  }

  private async assertAvailable(email: string, usernameKey: string): Promise<void> {
    const taken = await this.dependencies.database.user.findMany({
      where: { OR: [{ email }, { usernameKey }] },
      select: { email: true },
    });
    if (taken.some((user) => user.email === email)) throw new EmailTakenError();
    if (taken.length > 0) throw new UsernameTakenError();
  }
}
