import type { SecurityEvents } from "../audit/security-events.js";
import type { Viewer } from "../auth/viewer.js";
import type { Clock } from "../clock.js";
import type { Database, Transaction } from "../db/prisma.js";
import { EmailTakenError, InvalidTokenError, UnauthenticatedError } from "../errors/errors.js";
import { Prisma } from "../generated/prisma/client.js";
import type { ClientInfo } from "../http/client-info.js";
import type { MailRequestLimiter } from "../rate-limit/mail-requests.js";
import type { AccountLinks } from "./account-links.js";
import type { SingleUseTokens } from "./single-use-tokens.js";

export interface VerificationServiceDependencies {
  database: Database;
  links: AccountLinks;
  tokens: SingleUseTokens;
  mailRequests: MailRequestLimiter;
  audit: SecurityEvents;
  clock: Clock;
  /** The signed-in owner proved the address: what waited for that proof is settled, in its transaction (tentative identities and passkeys). */
  onOwnerVerified: (tx: Transaction, userId: string) => Promise<void>;
}

/** Proving an address: the verification link after registration (or on request), and the link that confirms a new address. */
export class VerificationService {
  constructor(private readonly dependencies: VerificationServiceDependencies) {}

  /** Sends a new verification link to the viewer's address; true also when it is verified already (nothing to send). */
  async requestEmailVerification(viewer: Viewer, client: ClientInfo): Promise<boolean> {
    const { database, links, mailRequests } = this.dependencies;
    await mailRequests.attempt(`account:${viewer.userId}`, client.ip);
    const user = await database.user.findUnique({ where: { id: viewer.userId } });
    if (!user) throw new UnauthenticatedError();
    if (user.emailVerifiedAt) return true;
    await links.transaction((tx) => links.send(tx, user, "verify_email", user.email));
    return true;
  }

  /**
   * Follows a verification or e-mail-change link. A verification link proves the address it was
   * sent to, as long as that is still the account's; an e-mail-change link makes its address the
   * account's (EMAIL_TAKEN if someone registered it meanwhile) and drops every other pending link.
   */
  async verifyEmail(token: string, viewer: Viewer | null, client: ClientInfo): Promise<boolean> {
    const { database, tokens, audit, clock, onOwnerVerified } = this.dependencies;
    try {
      await database.$transaction(async (tx) => {
        const grant = await tokens.redeem(tx, token, ["verify_email", "change_email"], viewer?.userId);
        const now = clock.now();
        const event = {
          userId: grant.userId,
          actorId: viewer?.userId ?? null,
          client,
          changes: { email: grant.email },
        };
        // A token redeemed with an access token is the viewer's own (`redeem` refuses another's).
        if (viewer) await onOwnerVerified(tx, grant.userId);
        if (grant.purpose === "verify_email") {
          const { count } = await tx.user.updateMany({
            where: { id: grant.userId, email: grant.email },
            data: { emailVerifiedAt: now },
          });
          if (count === 0) throw new InvalidTokenError();
          await audit.record(tx, { kind: "email_verified", ...event });
          return;
        }
        await tx.user.update({ where: { id: grant.userId }, data: { email: grant.email, emailVerifiedAt: now } });
        // After the update, whose row lock orders this account's events (see Outbox).
        await audit.record(tx, { kind: "email_changed", ...event });
        // Links mailed to the earlier address must not act on the account any more.
        await tx.accountToken.deleteMany({ where: { userId: grant.userId } });
      });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") throw new EmailTakenError();
      throw error;
    }
    return true;
  }
}
