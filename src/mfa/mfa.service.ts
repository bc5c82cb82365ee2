import type { SecurityEvents } from "../audit/security-events.js";
import type { Viewer } from "../auth/viewer.js";
import type { Clock } from "../clock.js";
import type { Database, Transaction } from "../db/prisma.js";
import {
  ForbiddenError,
  InvalidCredentialsError,
  InvalidMfaCodeError,
  UnauthenticatedError,
} from "../errors/errors.js";
import type { ClientInfo } from "../http/client-info.js";
import type { Mailer } from "../mail/mailer.js";
import { templates } from "../mail/templates.js";
import type { EventCounter } from "../observability/events.js";
import type { Logger } from "../observability/logger.js";
import type { CurrentPassword } from "../passwords/current-password.js";
import type { SessionLifecycle } from "../sessions/session-lifecycle.js";
import { newRecoveryCodes } from "./recovery-codes.js";
import type { SecondFactor } from "./second-factor.js";
import { enrollmentDetails, newTotpSecret, totpCodeStep, type TotpEnrollmentDetails } from "./totp.js";

export interface MfaServiceDependencies {
  database: Database;
  lifecycle: SessionLifecycle;
  currentPassword: CurrentPassword;
  secondFactor: SecondFactor;
  /** Tells the owner when MFA goes on or off (queued with the change). */
  mailer: Mailer;
  audit: SecurityEvents;
  logger: Logger;
  clock: Clock;
  /** The name authenticator apps show beside the account. */
  totpIssuer: string;
  onEvent: EventCounter;
}

/** Turning the second factor on and off, and its recovery codes. */
export class MfaService {
  constructor(private readonly dependencies: MfaServiceDependencies) {}

  async isEnabled(userId: string): Promise<boolean> {
    const factor = await this.dependencies.database.totpFactor.findUnique({
      where: { userId },
      select: { enabledAt: true },
    });
    return Boolean(factor?.enabledAt);
  }

  /**
   * A new secret for the viewer's authenticator app. Nothing changes for the account until
   * `confirmTotp` proves the app holds it; a later enrolment replaces an unconfirmed one.
   */
  async enrollTotp(viewer: Viewer, currentPassword: string, client: ClientInfo): Promise<TotpEnrollmentDetails> {
    const { database, secondFactor, clock, totpIssuer } = this.dependencies;
    const user = await this.dependencies.currentPassword.verify(viewer.userId, currentPassword, client);
    const secret = await newTotpSecret();
    const sealed = secondFactor.seal(user.id, secret);
    // One statement, so that an enabled authenticator is never overwritten, whatever runs alongside.
    const written = await database.$executeRaw`
      INSERT INTO totp_factors (user_id, secret_ciphertext, secret_key_id, created_at)
      VALUES (${user.id}::uuid, ${sealed.ciphertext}, ${sealed.keyId}, ${clock.now()})
      ON CONFLICT (user_id) DO UPDATE
        SET secret_ciphertext = EXCLUDED.secret_ciphertext, secret_key_id = EXCLUDED.secret_key_id,
            created_at = EXCLUDED.created_at, last_used_step = NULL
        WHERE totp_factors.enabled_at IS NULL`;
    if (written === 0) {
      throw new ForbiddenError(
        "Two-factor authentication is already on: turn it off before enrolling another authenticator.",
      );
    }
    return enrollmentDetails(secret, totpIssuer, user.email);
  }

  /**
   * Turns the second factor on with the first code of the enrolled authenticator; ends the
   * account's other sessions. The recovery codes are returned once and stored only hashed.
   */
  async confirmTotp(viewer: Viewer, code: string, client: ClientInfo): Promise<string[]> {
    const { database, lifecycle, secondFactor, mailer, audit, logger, clock, onEvent } = this.dependencies;
    const { userId } = viewer;
    await secondFactor.throttle(userId);
    const now = clock.now();
    const pending = await database.totpFactor.findUnique({ where: { userId } });
    if (!pending || pending.enabledAt) throw new InvalidMfaCodeError();
    const step = await totpCodeStep(secondFactor.open(userId, pending), code.trim(), now);
    if (step === null) throw new InvalidMfaCodeError();
    const recovery = newRecoveryCodes();
    // A credential change: logins that checked the password before it cannot start a session after it.
    const enabled = await lifecycle.changeCredentials(
      userId,
      undefined,
      "mfa_enabled",
      async (tx) => {
        const { count } = await tx.totpFactor.updateMany({
          where: { userId, enabledAt: null, createdAt: pending.createdAt },
          data: { enabledAt: now, lastUsedStep: step },
        });
        // Confirmed or replaced by another request meanwhile.
        if (count === 0) throw new InvalidMfaCodeError();
        await replaceRecoveryCodes(tx, userId, recovery.hashes, now);
        await audit.record(tx, { kind: "mfa_enabled", userId, actorId: userId, client });
        const user = await tx.user.findUniqueOrThrow({
          where: { id: userId },
          select: { username: true, email: true },
        });
        await mailer.notify(tx, user.email, templates.mfaEnabled({ username: user.username }), { userId }, logger);
        return true;
      },
      viewer.sessionId,
    );
    if (!enabled) throw new UnauthenticatedError();
    onEvent("mfa_enabled");
    return recovery.codes;
  }

  /** New recovery codes for a current code (authenticator or recovery); the old ones stop working. */
  async regenerateRecoveryCodes(viewer: Viewer, code: string): Promise<string[]> {
    const { database, secondFactor, clock } = this.dependencies;
    await secondFactor.throttle(viewer.userId);
    const now = clock.now();
    const recovery = newRecoveryCodes();
    await database.$transaction(async (tx) => {
      if (!(await secondFactor.consume(tx, viewer.userId, code, now))) throw new InvalidMfaCodeError();
      await replaceRecoveryCodes(tx, viewer.userId, recovery.hashes, now);
    });
    return recovery.codes;
  }

  /** Turns the second factor off: the password and a current code, both. Ends the account's other sessions. */
  async disableTotp(viewer: Viewer, currentPassword: string, code: string, client: ClientInfo): Promise<boolean> {
    const { lifecycle, secondFactor, mailer, audit, logger, clock, onEvent } = this.dependencies;
    const { userId } = viewer;
    const user = await this.dependencies.currentPassword.verify(userId, currentPassword, client);
    await secondFactor.throttle(userId);
    const now = clock.now();
    // Only while the password just checked is still the account's password.
    const disabled = await lifecycle.changeCredentials(
      userId,
      user.credentialsVersion,
      "mfa_disabled",
      async (tx) => {
        if (!(await secondFactor.consume(tx, userId, code, now))) throw new InvalidMfaCodeError();
        await tx.totpFactor.delete({ where: { userId } });
        await tx.recoveryCode.deleteMany({ where: { userId } });
        await tx.mfaChallenge.deleteMany({ where: { userId } });
        await audit.record(tx, { kind: "mfa_disabled", userId, actorId: userId, client });
        await mailer.notify(tx, user.email, templates.mfaDisabled({ username: user.username }), { userId }, logger);
        return true;
      },
      viewer.sessionId,
    );
    if (!disabled) throw new InvalidCredentialsError();
    onEvent("mfa_disabled");
    return true;
  }
}

async function replaceRecoveryCodes(tx: Transaction, userId: string, hashes: string[], now: Date): Promise<void> {
  await tx.recoveryCode.deleteMany({ where: { userId } });
  await tx.recoveryCode.createMany({ data: hashes.map((codeHash) => ({ userId, codeHash, createdAt: now })) });
}
