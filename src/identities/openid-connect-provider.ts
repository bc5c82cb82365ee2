import * as client from "openid-client";
import { foldIdentifier, isEmailAddress } from "../users/identity.js";
import {
  ProviderRefusal,
  type AuthorizationSecrets,
  type SignInProvider,
  type ProviderProfile,
} from "./sign-in-provider.js";
import type { OidcProviderSetting } from "./settings.js";

/**
 * The client authentication the provider accepts: `client_secret_basic` (OAuth's default, and what
 * a provider listing no method accepts) unless it lists only `client_secret_post`.
 */
function clientAuthentication(metadata: client.ServerMetadata, secret: string): client.ClientAuth {
  const methods = metadata.token_endpoint_auth_methods_supported;
  if (methods && !methods.includes("client_secret_basic") && methods.includes("client_secret_post"))
    return client.ClientSecretPost(secret);
  return client.ClientSecretBasic(secret);
}

/** An e-mail claim as an address an account may have, else null. */
export function emailOf(claim: unknown): string | null {
  if (typeof claim !== "string") return null;
  const folded = foldIdentifier(claim);
  return isEmailAddress(folded) ? folded : null;
}

const textClaims = (...claims: unknown[]) =>
  claims.filter((claim): claim is string => typeof claim === "string" && claim.trim() !== "");

/**
 * An OpenID Connect provider, found by discovery from its issuer. openid-client checks everything
 * of the answer: `state`, the issuer (RFC 9207 `iss` when the answer has one), PKCE at the token
 * endpoint, and the ID token's signature (against the provider's published keys), `alg`, `iss`,
 * `aud`, `nonce` and lifetime. Every request to the provider waits `timeoutSeconds` at most.
 */
export class OpenIdConnectProvider implements SignInProvider {
  private constructor(
    private readonly setting: OidcProviderSetting,
    private readonly configuration: client.Configuration,
  ) {}

  get id(): string {
    return this.setting.id;
  }

  get name(): string {
    return this.setting.name;
  }

  static async discover(setting: OidcProviderSetting, timeoutSeconds: number): Promise<OpenIdConnectProvider> {
    // Plain http only where the configuration allows it (outside production).
    const insecure = setting.issuer.startsWith("http:");
    const discovered = await client.discovery(new URL(setting.issuer), setting.clientId, undefined, undefined, {
      timeout: timeoutSeconds,
      execute: insecure ? [client.allowInsecureRequests] : [],
    });
    const metadata = discovered.serverMetadata();
    const configuration = new client.Configuration(
      metadata,
      setting.clientId,
      setting.clientSecret,
      clientAuthentication(metadata, setting.clientSecret),
    );
    configuration.timeout = timeoutSeconds;
    if (insecure) client.allowInsecureRequests(configuration);
    // The ID token's signature is checked against the provider's published keys too, not only the
    // channel it came through: an unsigned (`alg: none`) or wrongly signed token is refused.
    client.enableNonRepudiationChecks(configuration);
    return new OpenIdConnectProvider(setting, configuration);
  }

  async authorizationUrl(redirectUri: string, secrets: AuthorizationSecrets): Promise<string> {
    const parameters = {
      redirect_uri: redirectUri,
      scope: ["openid", ...this.setting.scopes.filter((scope) => scope !== "openid")].join(" "),
      state: secrets.state,
      nonce: secrets.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(secrets.codeVerifier),
      code_challenge_method: "S256",
    };
    return client.buildAuthorizationUrl(this.configuration, parameters).href;
  }

  async complete(callbackUrl: URL, secrets: AuthorizationSecrets): Promise<ProviderProfile> {
    const tokens = await client
      .authorizationCodeGrant(this.configuration, callbackUrl, {
        expectedState: secrets.state,
        expectedNonce: secrets.nonce,
        pkceCodeVerifier: secrets.codeVerifier,
        idTokenExpected: true,
      })
      .catch((error: unknown) => {
        throw ProviderRefusal.from("authorization code grant", error);
      });
    const claims = tokens.claims();
    if (!claims) throw new ProviderRefusal("ID token", "absent");
    let profile: Record<string, unknown> = claims;
    // Many providers put the e-mail claims in userinfo only; its `sub` must be the ID token's.
    if (claims.email === undefined && this.configuration.serverMetadata().userinfo_endpoint) {
      profile = await client
        .fetchUserInfo(this.configuration, tokens.access_token, claims.sub)
        .catch((error: unknown) => {
          throw ProviderRefusal.from("userinfo", error);
        });
    }
    return {
      issuer: claims.iss,
      subject: claims.sub,
      email: emailOf(profile.email),
      // Only a JSON true: "true", 1 or an absent claim are no promise.
      emailVerified: profile.email_verified === true,
      usernameHints: textClaims(profile.preferred_username, profile.nickname, profile.name, profile.given_name),
    };
  }
}
