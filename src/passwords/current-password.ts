import type { Database } from "../db/prisma.js";
import { InvalidCredentialsError, PasswordNotSetError, UnauthenticatedError } from "../errors/errors.js";
import type { User } from "../generated/prisma/client.js";
import type { ClientInfo } from "../http/client-info.js";
import type { PasswordCheck } from "./password-check.js";

/** The signed-in user's password, asked again before a sensitive change. */
export class CurrentPassword {
  constructor(
    private readonly database: Database,
    private readonly passwordCheck: PasswordCheck,
  ) {}

  /**
   * The account's row when `password` is its password; INVALID_CREDENTIALS when not, RATE_LIMITED
   * past the attempt limit (a stolen access token must not become an unlimited password-guessing
   * oracle), UNAUTHENTICATED when the account is gone, PASSWORD_NOT_SET when it has no password
   * (the owner sets one through a reset link first).
   */
  async verify(userId: string, password: string, client: ClientInfo): Promise<User> {
    const user = await this.database.user.findUnique({ where: { id: userId } });
    if (!user) throw new UnauthenticatedError();
    // Nothing to guess: no attempt is counted.
    if (user.passwordHash === null) throw new PasswordNotSetError();
    // Counted with the account's logins: a guess at its password counts the same wherever it is made.
    if (!(await this.passwordCheck.matches(user, `id:${user.id}`, password, client)))
      throw new InvalidCredentialsError();
    return user;
  }
}
