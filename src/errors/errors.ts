import { GraphQLError } from "graphql";
import { errorCodes, type ErrorCode, type OperationLimitCode } from "./codes.js";

/** An error a client is meant to see: its code is stable, its message safe. */
export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string = errorCodes[code],
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code } });
    this.name = new.target.name;
  }
}

export class BadUserInputError extends AppError {
  constructor(field: string, message: string) {
    super("BAD_USER_INPUT", message, { field });
  }
}

export class WeakPasswordError extends AppError {
  constructor(message: string, field = "password") {
    super("WEAK_PASSWORD", message, { field });
  }
}

export class EmailTakenError extends AppError {
  constructor() {
    super("EMAIL_TAKEN", errorCodes.EMAIL_TAKEN, { field: "email" });
  }
}

export class UsernameTakenError extends AppError {
  constructor(field = "username") {
    super("USERNAME_TAKEN", errorCodes.USERNAME_TAKEN, { field });
  }
}

export class InvalidCredentialsError extends AppError {
  constructor() {
    super("INVALID_CREDENTIALS");
  }
}

/** A current password was asked of an account that has none (made by signing in with an identity provider). */
export class PasswordNotSetError extends AppError {
  constructor(field = "currentPassword") {
    super("PASSWORD_NOT_SET", errorCodes.PASSWORD_NOT_SET, { field });
  }
}

export class UnauthenticatedError extends AppError {
  constructor() {
    super("UNAUTHENTICATED");
  }
}

export class InvalidRefreshTokenError extends AppError {
  constructor() {
    super("INVALID_REFRESH_TOKEN");
  }
}

export class RefreshTokenReusedError extends AppError {
  constructor() {
    super("REFRESH_TOKEN_REUSED");
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string = errorCodes.FORBIDDEN) {
    super("FORBIDDEN", message);
  }
}

/** The password was right; `extensions.mfaToken` completes the login with a second factor. */
export class MfaRequiredError extends AppError {
  constructor(mfaToken: string) {
    super("MFA_REQUIRED", errorCodes.MFA_REQUIRED, { mfaToken });
  }
}

export class InvalidMfaCodeError extends AppError {
  constructor() {
    super("INVALID_MFA_CODE", errorCodes.INVALID_MFA_CODE, { field: "code" });
  }
}

export class InvalidMfaTokenError extends AppError {
  constructor() {
    super("INVALID_MFA_TOKEN", errorCodes.INVALID_MFA_TOKEN, { field: "mfaToken" });
  }
}

export class InvalidTokenError extends AppError {
  constructor() {
    super("INVALID_TOKEN", errorCodes.INVALID_TOKEN, { field: "token" });
  }
}

export class EmailNotVerifiedError extends AppError {
  constructor() {
    super("EMAIL_NOT_VERIFIED");
  }
}

export class AccountLockedError extends AppError {
  constructor() {
    super("ACCOUNT_LOCKED");
  }
}

export class LastAdminError extends AppError {
  constructor() {
    super("LAST_ADMIN");
  }
}

/** Every failed passkey verification, whatever failed: the client learns nothing that helps a forger. */
export class InvalidPasskeyError extends AppError {
  constructor() {
    super("INVALID_PASSKEY", errorCodes.INVALID_PASSKEY, { field: "response" });
  }
}

/** A passkey challenge or a sign-in flow (`field` names its id) that is unknown, used, expired or not the viewer's. */
export class InvalidChallengeError extends AppError {
  constructor(field: "challengeId" | "flowId") {
    super("INVALID_CHALLENGE", errorCodes.INVALID_CHALLENGE, { field });
  }
}

export class ReauthenticationRequiredError extends AppError {
  constructor() {
    super("REAUTHENTICATION_REQUIRED", errorCodes.REAUTHENTICATION_REQUIRED, { field: "currentPassword" });
  }
}

/** Anything the provider or the verification of its answer refused; the log says which check. */
export class SocialLoginFailedError extends AppError {
  constructor() {
    super("SOCIAL_LOGIN_FAILED");
  }
}

/** The provider's address is an account's, but not both sides vouch for it: the owner links by signing in first. */
export class AccountLinkRequiredError extends AppError {
  constructor() {
    super("ACCOUNT_LINK_REQUIRED");
  }
}

export class IdentityAlreadyLinkedError extends AppError {
  constructor() {
    super("IDENTITY_ALREADY_LINKED");
  }
}

export class LastSignInMethodError extends AppError {
  constructor() {
    super("LAST_SIGN_IN_METHOD");
  }
}

export class RateLimitedError extends AppError {
  /** `startsLockout`: the first refusal of the subject's window (not the client address's), for the audit log. */
  constructor(
    readonly retryAfterSeconds: number,
    readonly startsLockout = false,
  ) {
    super("RATE_LIMITED", errorCodes.RATE_LIMITED, { retryAfterSeconds });
  }
}

/** An operation refused before execution because it exceeds one of the configured limits. */
export class OperationLimitError extends AppError {
  constructor(code: OperationLimitCode, message: string) {
    super(code, message);
  }
}

/**
 * A plugin's refusal before execution is a 500 by Apollo's default; this one is the client's
 * request that is wrong, a 400 (the formatter does not pass `http` on to the client).
 */
export function refusedBeforeExecution<T extends AppError>(error: T): T {
  return Object.assign(error, { extensions: { ...error.extensions, http: { status: 400 } } });
}

export class ServiceUnavailableError extends AppError {
  constructor(
    readonly dependency: "postgres" | "revocation-store" | "mail" | "password-hasher" | "identity-provider",
    cause?: unknown,
  ) {
    super("SERVICE_UNAVAILABLE");
    this.cause = cause;
  }
}
