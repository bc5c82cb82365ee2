import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import type { SecurityEvents } from "../audit/security-events.js";
import type { Viewer } from "../auth/viewer.js";
import type { Clock } from "../clock.js";
import type { Database } from "../db/prisma.js";
import { ForbiddenError, InvalidPasskeyError, UnauthenticatedError } from "../errors/errors.js";
import { Prisma } from "../generated/prisma/client.js";
import type { ClientInfo } from "../http/client-info.js";
import type { Mailer } from "../mail/mailer.js";
import { templates } from "../mail/templates.js";
import type { Logger } from "../observability/logger.js";
import type { Reauthentication } from "../sessions/reauthentication.js";
import type { UsersService } from "../users/users.service.js";
import type { PasskeyChallenges } from "./challenges.js";
import { defaultPasskeyName, normalizePasskeyName } from "./passkey-names.js";
import type { PasskeyRecord, PasskeyStore } from "./passkey-store.js";
import type { RelyingParty } from "./relying-party.js";
import { parseRegistration } from "./responses.js";

/** Passkeys one account may hold: each is listed in every registration's and sign-in's options. */
export const maxPasskeysPerAccount = 20;

function tooManyPasskeys(): ForbiddenError {
  return new ForbiddenError(
    `An account holds at most ${maxPasskeysPerAccount} passkeys: remove one before adding another.`,
  );
}

/** The account a passkey is added to, as its row is locked. */
interface Owner {
  username: string;
  email: string;
  /** Nobody has proven its address yet: the passkey is tentative. */
  unproven: boolean;
  hasPassword: boolean;
}

export interface IssuedChallenge<Options> {
  challengeId: string;
  options: Options;
  expiresAt: Date;
}

export interface PasskeyRegistrationDependencies {
  database: Database;
  store: PasskeyStore;
  challenges: PasskeyChallenges;
  relyingParty: RelyingParty;
  reauthentication: Reauthentication;
  users: UsersService;
  audit: SecurityEvents;
  /** Tells the owner a passkey was added (queued with it). */
  mailer: Mailer;
  logger: Logger;
  clock: Clock;
}

/** Adding a passkey to the signed-in account. */
export class PasskeyRegistration {
  constructor(private readonly dependencies: PasskeyRegistrationDependencies) {}

  /**
   * Options for `navigator.credentials.create()` (through `startRegistration`), for a session that
   * signed in recently or with the current password: a stolen access token alone cannot add a way in.
   */
  async begin(
    viewer: Viewer,
    currentPassword: string | null | undefined,
    client: ClientInfo,
  ): Promise<IssuedChallenge<PublicKeyCredentialCreationOptionsJSON>> {
    const { store, challenges, relyingParty, reauthentication, users } = this.dependencies;
    await reauthentication.confirm(viewer, currentPassword, client);
    const [[user], existing, userHandle] = await Promise.all([
      users.findByIds([viewer.userId]),
      store.listOf(viewer.userId),
      store.userHandleOf(viewer.userId),
    ]);
    if (!user || !userHandle) throw new UnauthenticatedError();
    if (existing.length >= maxPasskeysPerAccount) throw tooManyPasskeys();
    // The username, never the e-mail address: authenticators show it, and may sync it elsewhere.
    const options = await relyingParty.registrationOptions({ userName: user.username, userHandle, exclude: existing });
    const issued = await challenges.issue({
      purpose: "registration",
      challenge: options.challenge,
      userId: viewer.userId,
      discoverable: false,
      userVerification: "preferred",
    });
    return { ...issued, options };
  }

  /**
   * Verifies `startRegistration`'s answer to the viewer's own challenge and stores the credential;
   * a credential id already registered, to this account or another, is INVALID_PASSKEY.
   */
  async finish(
    viewer: Viewer,
    challengeId: string,
    response: unknown,
    name: string | null | undefined,
    client: ClientInfo,
  ): Promise<PasskeyRecord> {
    const { database, store, challenges, relyingParty, audit, mailer, logger, clock } = this.dependencies;
    // Checked first, so that a bad name does not use up the challenge.
    const passkeyName = name == null ? defaultPasskeyName : normalizePasskeyName(name);
    const challenge = await challenges.take(challengeId, ["registration"], viewer.userId);
    const credential = await relyingParty.verifyRegistration(parseRegistration(response), challenge.challenge);
    const { userId } = viewer;
    const now = clock.now();
    return database
      .$transaction(async (tx) => {
        // The account's row first: a concurrent removal, deletion or credential change queues behind this.
        const [owner] = await tx.$queryRaw<Owner[]>`
          SELECT username, email, email_verified_at IS NULL AS unproven, password_hash IS NOT NULL AS "hasPassword"
          FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
        // A reset or password change that committed meanwhile ended the session: it adds nothing, as it would not after.
        const live = await tx.session.count({ where: { id: viewer.sessionId, userId, revokedAt: null } });
        if (!owner || live === 0) throw new UnauthenticatedError();
        if ((await tx.passkey.count({ where: { userId } })) >= maxPasskeysPerAccount) throw tooManyPasskeys();
        const passkey = await store.insert(tx, userId, credential, passkeyName, now, owner.unproven);
        await audit.record(tx, {
          kind: "passkey_added",
          userId,
          actorId: userId,
          client,
          details: { passkeyId: passkey.id, name: passkeyName },
        });
        const notice = templates.passkeyAdded({
          username: owner.username,
          passkeyName,
          hasPassword: owner.hasPassword,
        });
        await mailer.notify(tx, owner.email, notice, { userId }, logger);
        return passkey;
      })
      .catch((error: unknown) => {
        // This credential is registered already (maybe concurrently): nothing was stored.
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002")
          throw new InvalidPasskeyError();
        throw error;
      });
  }
}
