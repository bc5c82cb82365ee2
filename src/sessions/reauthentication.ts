import type { Viewer } from "../auth/viewer.js";
import type { Clock } from "../clock.js";
import type { Database } from "../db/prisma.js";
import { ReauthenticationRequiredError } from "../errors/errors.js";
import type { ClientInfo } from "../http/client-info.js";
import type { CurrentPassword } from "../passwords/current-password.js";

export interface ReauthenticationDependencies {
  database: Database;
  currentPassword: CurrentPassword;
  clock: Clock;
  /** How long after its sign-in a session counts as signed in recently; 0: never. */
  windowSeconds: number;
}

/**
 * Proof, before a sensitive change, that whoever holds the session is its owner: the current
 * password, or a recent sign-in. A session's sign-in is when it started (`sessions.created_at`):
 * a login, a registration, a completed second factor, a passkey sign-in or a password change
 * each proved a credential then. A refresh proves only that the refresh token is held, so it does
 * not count: a stolen refresh token cannot make its session recent again.
 */
export class Reauthentication {
  constructor(private readonly dependencies: ReauthenticationDependencies) {}

  /** Passes with the right password, or within the window of the session's sign-in; REAUTHENTICATION_REQUIRED otherwise. */
  async confirm(viewer: Viewer, currentPassword: string | null | undefined, client: ClientInfo): Promise<void> {
    const { database, clock, windowSeconds } = this.dependencies;
    if (currentPassword != null) {
      await this.dependencies.currentPassword.verify(viewer.userId, currentPassword, client);
      return;
    }
    const session = await database.session.findUnique({
      where: { id: viewer.sessionId },
      select: { userId: true, createdAt: true },
    });
    const signedInSince = clock.now().getTime() - windowSeconds * 1000;
    if (!session || session.userId !== viewer.userId || session.createdAt.getTime() < signedInSince)
      throw new ReauthenticationRequiredError();
  }
}
