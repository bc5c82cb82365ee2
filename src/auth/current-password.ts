import type { Database } from "../db/prisma.js";
import { InvalidCredentialsError, PasswordNotSetError, UnauthenticatedError } from "../errors/errors.js";
import type { User } from "../generated/prisma/client.js";
import type { PasswordAttemptLimiter } from "../rate-limit/password-attempts.js";
import type { ClientInfo } from "../sessions/session-lifecycle.js";
import type { PasswordHasher } from "./password-hasher.js";
import { codePointLength, passwordLength } from "./password-policy.js";

export interface CurrentPasswordDependencies {
  database: Database;
  hasher: PasswordHasher;
  passwordAttempts: PasswordAttemptLimiter;
}

/** The signed-in user's password, asked again before a sensitive change. */
export class CurrentPassword {
  constructor(private readonly dependencies: CurrentPasswordDependencies) {}

  /**
   * The account's row when `password` is its password; INVALID_CREDENTIALS when not, RATE_LIMITED
   * past the attempt limit (a stolen access token must not become an unlimited password-guessing
   * oracle), UNAUTHENTICATED when the account is gone, PASSWORD_NOT_SET when it has no password
   * (the owner sets one through a reset link first).
   */
  async verify(userId: string, password: string, client: ClientInfo): Promise<User> {
    const { database, hasher, passwordAttempts } = this.dependencies;
    const user = await database.user.findUnique({ where: { id: userId } });
    if (!user) throw new UnauthenticatedError();
    // Nothing to guess: no attempt is counted.
    if (user.passwordHash === null) throw new PasswordNotSetError();
    // Counted with the account's logins: a guess is a guess, wherever it is made.
    const attempt = await passwordAttempts.begin(`id:${user.id}`, client.ip);
    const verified = codePointLength(password) <= passwordLength.max && (await hasher.verify(user.passwordHash, password));
    if (!verified) throw new InvalidCredentialsError();
    await attempt.succeeded();
    return user;
  }
}
