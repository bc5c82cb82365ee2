import * as client from "openid-client";
import {
  ProviderRefusal,
  type AuthorizationSecrets,
  type SignInProvider,
  type ProviderProfile,
} from "./sign-in-provider.js";
import { emailOf } from "./openid-connect-provider.js";
import type { GitHubProviderSetting } from "./settings.js";

interface GitHubUser {
  id?: unknown;
  login?: unknown;
  name?: unknown;
  email?: unknown;
}

interface GitHubEmail {
  email?: unknown;
  primary?: unknown;
  verified?: unknown;
}

const apiHeaders = {
  accept: "application/vnd.github+json",
  "x-github-api-version": "2022-11-28",
  "user-agent": "users-subgraph",
};

/**
 * GitHub signs in with plain OAuth 2: no discovery and no ID token. openid-client still checks the
 * answer's `state` and sends the PKCE verifier; the person is then read from the REST API with the
 * access token (`/user`, and `/user/emails` for the primary address and whether GitHub verified it).
 * `webUrl` and `apiUrl` are settings, for GitHub Enterprise.
 */
export class GitHubProvider implements SignInProvider {
  private readonly configuration: client.Configuration;

  constructor(
    private readonly setting: GitHubProviderSetting,
    timeoutSeconds: number,
  ) {
    const metadata: client.ServerMetadata = {
      issuer: setting.webUrl,
      authorization_endpoint: `${setting.webUrl}/login/oauth/authorize`,
      token_endpoint: `${setting.webUrl}/login/oauth/access_token`,
    };
    this.configuration = new client.Configuration(
      metadata,
      setting.clientId,
      setting.clientSecret,
      client.ClientSecretPost(setting.clientSecret),
    );
    this.configuration.timeout = timeoutSeconds;
    // Plain http only where the configuration allows it (outside production).
    if ([setting.webUrl, setting.apiUrl].some((url) => url.startsWith("http:")))
      client.allowInsecureRequests(this.configuration);
  }

  get id(): string {
    return this.setting.id;
  }

  get name(): string {
    return this.setting.name;
  }

  async authorizationUrl(redirectUri: string, secrets: AuthorizationSecrets): Promise<string> {
    const parameters = {
      redirect_uri: redirectUri,
      scope: this.setting.scopes.join(" "),
      state: secrets.state,
      code_challenge: await client.calculatePKCECodeChallenge(secrets.codeVerifier),
      code_challenge_method: "S256",
      // Never offer to create a GitHub account midway: the app's own sign-up is elsewhere.
      allow_signup: "false",
    };
    return client.buildAuthorizationUrl(this.configuration, parameters).href;
  }

  async complete(callbackUrl: URL, secrets: AuthorizationSecrets): Promise<ProviderProfile> {
    const tokens = await client
      .authorizationCodeGrant(this.configuration, callbackUrl, {
        expectedState: secrets.state,
        pkceCodeVerifier: secrets.codeVerifier,
      })
      .catch((error: unknown) => {
        throw ProviderRefusal.from("authorization code grant", error);
      });
    const user = (await this.read("user", tokens.access_token)) as GitHubUser | null;
    if (!user || typeof user.id !== "number" || !Number.isSafeInteger(user.id) || user.id <= 0) {
      throw new ProviderRefusal("user", "the answer names no user id");
    }
    // Without the user:email scope the list is refused: the public address, unverified, then.
    const emails = await this.read("user/emails", tokens.access_token).catch(() => null);
    const primary = Array.isArray(emails)
      ? (emails as GitHubEmail[]).find((entry) => entry?.primary === true)
      : undefined;
    const email = primary ? emailOf(primary.email) : emailOf(user.email);
    return {
      issuer: this.setting.webUrl,
      subject: String(user.id),
      email,
      emailVerified: email !== null && primary?.verified === true,
      usernameHints: [user.login, user.name].filter(
        (hint): hint is string => typeof hint === "string" && hint.trim() !== "",
      ),
    };
  }

  /** One REST API resource as JSON, within the provider's timeout; ProviderRefusal for anything but a 200 with JSON. */
  private async read(resource: string, accessToken: string): Promise<unknown> {
    let response: Response;
    try {
      const url = new URL(`${this.setting.apiUrl}/${resource}`);
      response = await client.fetchProtectedResource(
        this.configuration,
        accessToken,
        url,
        "GET",
        undefined,
        new Headers(apiHeaders),
      );
    } catch (error) {
      throw ProviderRefusal.from(resource, error);
    }
    if (response.status !== 200) throw new ProviderRefusal(resource, `HTTP ${response.status}`);
    return response.json().catch((error: unknown) => {
      throw ProviderRefusal.from(resource, error);
    });
  }
}
