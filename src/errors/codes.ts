/** Every `extensions.code` the subgraph sends, with the message clients see. */
export const errorCodes = {
  BAD_USER_INPUT: "The input is not valid.",
  WEAK_PASSWORD: "The password is too weak.",
  EMAIL_TAKEN: "An account with this e-mail address already exists.",
  USERNAME_TAKEN: "This username is taken.",
  INVALID_CREDENTIALS: "Invalid username, e-mail or password.",
  PASSWORD_NOT_SET: "This account has no password yet: set one with the link of a password reset mail first.",
  UNAUTHENTICATED: "A valid access token is required.",
  INVALID_REFRESH_TOKEN: "The refresh token is invalid or expired.",
  REFRESH_TOKEN_REUSED: "This refresh token was already used; the session has been ended.",
  FORBIDDEN: "You are not allowed to do this.",
  FORBIDDEN_ORIGIN: "This page's origin may not use the session cookie.",
  MFA_REQUIRED: "The password is right; complete the login with a code from your authenticator app or a recovery code.",
  INVALID_MFA_CODE: "The code is not valid.",
  INVALID_MFA_TOKEN: "This login has expired or was already completed. Log in again.",
  INVALID_TOKEN: "This link is invalid or has expired. Ask for a new one.",
  EMAIL_NOT_VERIFIED: "Confirm your e-mail address first: follow the link in the mail we sent.",
  ACCOUNT_LOCKED: "This account is locked. Contact support to unlock it.",
  LAST_ADMIN: "The last admin cannot be locked or lose the admin role.",
  INVALID_PASSKEY: "The passkey could not be verified.",
  INVALID_CHALLENGE: "This request has expired or was already used. Start it again.",
  REAUTHENTICATION_REQUIRED: "Sign in again, or enter your current password, to do this.",
  LAST_SIGN_IN_METHOD:
    "This is the account's last way to sign in: set a password, add a passkey or link another provider first.",
  SOCIAL_LOGIN_FAILED: "The sign-in with the identity provider did not succeed. Start it again.",
  ACCOUNT_LINK_REQUIRED:
    "An account already has this e-mail address. Sign in to it the usual way, then link this provider to it.",
  IDENTITY_ALREADY_LINKED: "This identity is already linked to another account.",
  RATE_LIMITED: "Too many attempts. Try again later.",
  SERVICE_UNAVAILABLE: "The service is temporarily unavailable. Try again later.",
  TOKEN_LIMIT_EXCEEDED: "The operation has too many tokens.",
  DEPTH_LIMIT_EXCEEDED: "The operation is nested too deeply.",
  ALIAS_LIMIT_EXCEEDED: "The operation has too many aliases.",
  DIRECTIVE_LIMIT_EXCEEDED: "The operation has too many directives.",
  COST_LIMIT_EXCEEDED: "The operation would cost too much to run.",
  PASSWORD_OPERATION_LIMIT_EXCEEDED: "The operation checks or sets too many passwords at once.",
  ENTITY_LIMIT_EXCEEDED: "The operation asks for too many entities at once.",
  ERRORS_TRUNCATED: "More errors occurred than one response carries; the rest were left out.",
  INTERNAL_SERVER_ERROR: "Internal server error.",
} as const;

export type ErrorCode = keyof typeof errorCodes;

export type OperationLimitCode = Extract<ErrorCode, `${string}_LIMIT_EXCEEDED`>;
