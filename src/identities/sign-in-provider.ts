/** The person a provider vouched for at the end of a sign-in there. */
export interface ProviderProfile {
  /** Who vouches for `subject`: identities are matched on both. */
  issuer: string;
  subject: string;
  /** Folded (`foldIdentifier`); null when the provider gave none that is an address an account may have. */
  email: string | null;
  /** The provider says that its user proved `email` theirs. */
  emailVerified: boolean;
  /** What a new account's username may be made of, best first (a login name, a display name). */
  usernameHints: string[];
}

/** What one sign-in keeps from its start to its completion; never shown to the client. */
export interface AuthorizationSecrets {
  state: string;
  nonce: string;
  /** PKCE (S256). */
  codeVerifier: string;
}

/** One configured provider, whichever protocol it speaks. */
export interface SignInProvider {
  readonly id: string;
  readonly name: string;
  /** Where the browser goes to sign in, coming back to `redirectUri`. */
  authorizationUrl(redirectUri: string, secrets: AuthorizationSecrets): Promise<string>;
  /**
   * The person the provider's answer (`callbackUrl`: the redirect URI with the answer's query)
   * proves, after every check; `ProviderRefusal` when a check fails or the provider refuses.
   */
  complete(callbackUrl: URL, secrets: AuthorizationSecrets): Promise<ProviderProfile>;
}

/**
 * A provider refused, or its answer failed a check. `check` and `reason` say which, for the log;
 * neither ever holds a token, code or secret. The client learns only SOCIAL_LOGIN_FAILED.
 */
export class ProviderRefusal extends Error {
  constructor(
    readonly check: string,
    readonly reason: string,
  ) {
    super(`${check}: ${reason}`);
    this.name = "ProviderRefusal";
  }

  /**
   * A library or network error, described without what it carries: the errors of openid-client
   * hold the provider's response (tokens included) as their `cause`, so only their name, code,
   * message and OAuth error code are kept.
   */
  static from(check: string, error: unknown): ProviderRefusal {
    if (error instanceof ProviderRefusal) return error;
    if (!(error instanceof Error)) return new ProviderRefusal(check, "unknown failure");
    const { code, error: oauthError } = error as Error & { code?: unknown; error?: unknown };
    // openid-client wraps the failed check's own error (whose message names it, as "unexpected
    // "nonce" claim value" does); a network failure carries its system error code.
    const cause = error.cause instanceof Error ? error.cause : undefined;
    const causeCode = (cause as { code?: unknown } | undefined)?.code;
    const timedOut = error.name === "TimeoutError" || error.name === "AbortError" || code === "OAUTH_TIMEOUT";
    const parts = timedOut
      ? [error.name, "no answer in time"]
      : [
          error.name,
          typeof code === "string" ? code : undefined,
          typeof oauthError === "string" ? `error=${oauthError.slice(0, 64)}` : undefined,
          error.message.slice(0, 200),
          cause && cause.message !== error.message ? `(${cause.message.slice(0, 200)})` : undefined,
          typeof causeCode === "string" && causeCode !== code ? causeCode : undefined,
        ];
    return new ProviderRefusal(check, parts.filter((part) => part !== undefined).join(" "));
  }
}
