import type { PasswordHasher } from "../auth/password-hasher.js";
import { codePointLength, passwordLength } from "../auth/password-policy.js";
import type { Database } from "../db/prisma.js";
import { InvalidCredentialsError, UnauthenticatedError } from "../errors/errors.js";
import type { User } from "../generated/prisma/client.js";
import type { ClientInfo } from "../http/client-info.js";
import type { PasswordAttemptLimiter } from "../rate-limit/password-attempts.js";

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
   * oracle), UNAUTHENTICATED when the account is gone.
   */
  async verify(userId: string, password: string, client: ClientInfo): Promise<User> {
    const { database, hasher, passwordAttempts } = this.dependencies;
    const user = await database.user.findUnique({ where: { id: userId } });
    if (!user) throw new UnauthenticatedError();
    // Counted with the account's logins: a guess is a guess, wherever it is made.
    const attempt = await passwordAttempts.begin(`id:${user.id}`, client.ip);
    const verified = codePointLength(password) <= passwordLength.max && (await hasher.verify(user.passwordHash, password));
    if (!verified) throw new InvalidCredentialsError();
    await attempt.succeeded();
    return user;
  }
}
