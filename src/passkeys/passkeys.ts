import type { SecurityEvents } from "../audit/security-events.js";
import type { EncryptionKeys } from "../auth/encryption-keys.js";
import type { Clock } from "../clock.js";
import type { Database } from "../db/prisma.js";
import type { Mailer } from "../mail/mailer.js";
import type { MfaLogin } from "../mfa/mfa-login.js";
import type { PasswordAttemptLimiter } from "../rate-limit/password-attempts.js";
import type { Logger } from "../observability/logger.js";
import type { Reauthentication } from "../sessions/reauthentication.js";
import type { CredentialSignIn } from "../sessions/sessions.service.js";
import type { SingleUseStore } from "../store/single-use-store.js";
import type { UsersService } from "../users/users.service.js";
import { PasskeyChallenges } from "./challenges.js";
import { DecoyCredentials } from "./decoys.js";
import { PasskeyManagement } from "./passkey-management.service.js";
import { PasskeyRegistration } from "./passkey-registration.service.js";
import { PasskeySignIn } from "./passkey-sign-in.service.js";
import { PasskeyStore } from "./passkey-store.js";
import { RelyingParty, type PasskeySettings } from "./relying-party.js";

export interface Passkeys {
  registration: PasskeyRegistration;
  signIn: PasskeySignIn;
  management: PasskeyManagement;
}

export interface PasskeysDependencies {
  database: Database;
  /** Where challenges wait for their answer, shared by every instance. */
  challengeStore: SingleUseStore;
  settings: PasskeySettings;
  /** Its current key derives the made-up credentials shown for unknown names, alike on every instance. */
  encryptionKeys: EncryptionKeys;
  reauthentication: Reauthentication;
  /** The steps every login shares, from the sessions feature. */
  signIn: CredentialSignIn;
  /** Counts the sign-ins each client address starts, within its allowance. */
  starts: Pick<PasswordAttemptLimiter, "signInStart">;
  mfaLogin: Pick<MfaLogin, "pending" | "completeWith">;
  users: UsersService;
  audit: SecurityEvents;
  mailer: Mailer;
  logger: Logger;
  clock: Clock;
}

/** The passkey feature's services over one store of credentials and one of challenges. */
export function createPasskeys(dependencies: PasskeysDependencies): Passkeys {
  const { database, challengeStore, settings, encryptionKeys, clock } = dependencies;
  const store = new PasskeyStore(database);
  const challenges = new PasskeyChallenges(challengeStore, clock, settings.challengeTtlSeconds);
  const relyingParty = new RelyingParty(settings);
  return {
    registration: new PasskeyRegistration({ ...dependencies, store, challenges, relyingParty }),
    management: new PasskeyManagement({ ...dependencies, store }),
    signIn: new PasskeySignIn({
      ...dependencies,
      store,
      challenges,
      relyingParty,
      decoys: new DecoyCredentials(encryptionKeys.derive("passkey-decoys")),
    }),
  };
}
