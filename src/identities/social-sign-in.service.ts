import type { Viewer } from "../auth/viewer.js";
import type { Database } from "../db/prisma.js";
import {
  AccountLinkRequiredError,
  BadUserInputError,
  InvalidChallengeError,
  SocialLoginFailedError,
} from "../errors/errors.js";
import type { Logger } from "../observability/logger.js";
import type { PasswordAttemptLimiter } from "../rate-limit/password-attempts.js";
import type { ClientInfo } from "../http/client-info.js";
import type { AuthResult } from "../sessions/session-lifecycle.js";
import type { CredentialSignIn } from "../sessions/sessions.service.js";
import { hasTentativeSignInMethod } from "../users/sign-in-methods.js";
import type { UsersService } from "../users/users.service.js";
import { ProviderRefusal, type SignInProvider, type ProviderProfile } from "./sign-in-provider.js";
import type { IdentityLinks } from "./identity-links.service.js";
import type { IdentityStore } from "./identity-store.js";
import { decideSignIn } from "./linking-policy.js";
import { SignInConflict, type NewAccounts } from "./new-accounts.js";
import type { ProviderRegistry } from "./provider-registry.js";
import type { SignInFlow, SignInFlows } from "./sign-in-flows.js";

/** What sign-in needs of the sessions feature: the steps every login takes once its first factor is proven. */
export type FirstFactorLogin = Pick<CredentialSignIn, "proceed">;

export interface SocialSignInDependencies {
  database: Database;
  registry: Pick<ProviderRegistry, "get">;
  flows: SignInFlows;
  /** REDIRECT_URIS, normalized: a redirect URI must be one of them exactly. */
  redirectUris: readonly string[];
  users: Pick<UsersService, "findForLogin" | "findForLoginById">;
  identities: IdentityStore;
  newAccounts: NewAccounts;
  links: IdentityLinks;
  login: FirstFactorLogin;
  /** Counts the sign-ins each client address starts, within its allowance. */
  starts: Pick<PasswordAttemptLimiter, "signInStart">;
  logger: Logger;
}

export interface StartedSignIn {
  authorizationUrl: string;
  flowId: string;
}

// Longer than any redirect URI with a provider's answer; longer is no answer of ours.
const maxCallbackUrlLength = 8192;

/**
 * Sign-in with an identity provider, for an app behind a router (GraphQL only, no cookie): `start`
 * keeps the flow's secrets under a flow id and hands out the provider's authorization URL; the
 * app's callback page hands back the URL the provider redirected to, with the flow id.
 */
export class SocialSignIn {
  constructor(private readonly dependencies: SocialSignInDependencies) {}

  /**
   * `purpose` link: the completion links the identity to `userId` instead of signing in.
   * RATE_LIMITED past the client address's allowance of sign-in starts.
   */
  async start(
    providerId: string,
    redirectUri: string,
    purpose: SignInFlow["purpose"],
    client: ClientInfo,
  ): Promise<StartedSignIn> {
    const { registry, flows, redirectUris, starts } = this.dependencies;
    // Exactly, character for character: a prefix, another port or another path is another page.
    if (!redirectUris.includes(redirectUri))
      throw new BadUserInputError("redirectUri", "This redirect URI is not one the server allows.");
    const provider = await registry.get(providerId);
    await starts.signInStart(client.ip);
    const { flowId, secrets } = await flows.begin({ provider: provider.id, redirectUri, purpose });
    return { authorizationUrl: await provider.authorizationUrl(redirectUri, secrets), flowId };
  }

  /**
   * The flow is taken (single use) before anything is checked. A link flow completes only for the
   * account that started it (`viewer`). AuthPayload, or: SOCIAL_LOGIN_FAILED (the provider or a
   * check refused; the log says which), ACCOUNT_LINK_REQUIRED, IDENTITY_ALREADY_LINKED,
   * MFA_REQUIRED and the other refusals of a login.
   */
  async complete(
    flowId: string,
    callbackUrl: string,
    client: ClientInfo,
    viewer: () => Promise<Viewer>,
  ): Promise<AuthResult> {
    const { registry, flows, links } = this.dependencies;
    const callback = parseCallbackUrl(callbackUrl);
    const flow = await flows.take(flowId);
    if (flow.purpose.kind === "link" && (await viewer()).userId !== flow.purpose.userId)
      throw new InvalidChallengeError("flowId");
    const provider = await registry.get(flow.provider);
    const profile = await this.verify(provider, flow, callback);
    if (flow.purpose.kind === "link") return links.completeLink(flow.purpose.userId, provider.id, profile, client);
    return this.signIn(provider.id, profile, client);
  }

  /** The provider's answer, every check passed; SOCIAL_LOGIN_FAILED otherwise, with the failed check logged. */
  private async verify(provider: SignInProvider, flow: SignInFlow, callback: URL): Promise<ProviderProfile> {
    try {
      if (`${callback.origin}${callback.pathname}` !== flow.redirectUri) {
        throw new ProviderRefusal("callback URL", "not the redirect URI the sign-in started with");
      }
      // The redirect URI the token request names is the flow's own, whatever else the URL held.
      const answer = new URL(flow.redirectUri);
      answer.search = callback.search;
      return await provider.complete(answer, flow.secrets);
    } catch (error) {
      if (!(error instanceof ProviderRefusal)) throw error;
      throw this.refused(provider.id, error);
    }
  }

  private async signIn(
    provider: string,
    profile: ProviderProfile,
    client: ClientInfo,
    retried = false,
  ): Promise<AuthResult> {
    const { database, users, identities, newAccounts, links, login } = this.dependencies;
    const proof = { firstFactor: "provider", details: { provider } } as const;
    // The address first, the identity second: an account made by a concurrent first sign-in of the
    // same person commits both at once, so it is never seen by its address without its identity.
    const accountWithEmail = profile.email === null ? null : await users.findForLogin(profile.email);
    const linkedUserId = await identities.linkedUserId(profile);
    const decision = decideSignIn({
      linkedUserId,
      profile,
      accountWithEmail: accountWithEmail && {
        ...accountWithEmail,
        emailVerified: accountWithEmail.user.emailVerifiedAt !== null,
        hasTentativeSignInMethods:
          linkedUserId === null && (await hasTentativeSignInMethod(database, accountWithEmail.user.id)),
      },
    });
    try {
      switch (decision.kind) {
        case "refused":
          throw this.refused(provider, new ProviderRefusal("account", decision.reason));
        case "link-required":
          throw new AccountLinkRequiredError();
        case "new-account":
          return await newAccounts.create(provider, profile, decision.email, client);
        case "link-and-sign-in": {
          const { account } = decision;
          // A locked account is refused as a login would be, and gains no link.
          if (!account.user.lockedAt) await links.linkByAddress(account, provider, profile, client);
          return await login.proceed(account, client, proof);
        }
        case "sign-in": {
          await identities.rememberEmail(profile);
          const account = await users.findForLoginById(decision.userId);
          // Deleted since the identity was read.
          if (!account) throw new SignInConflict();
          return await login.proceed(account, client, proof);
        }
      }
    } catch (error) {
      if (!(error instanceof SignInConflict)) throw error;
      // Decided on facts another request changed meanwhile: once more on the new ones.
      if (!retried) return this.signIn(provider, profile, client, true);
      throw this.refused(provider, new ProviderRefusal("account", error.message));
    }
  }

  private refused(provider: string, refusal: ProviderRefusal): SocialLoginFailedError {
    this.dependencies.logger.warn(
      { provider, check: refusal.check, reason: refusal.reason },
      "sign-in with an identity provider refused",
    );
    return new SocialLoginFailedError();
  }
}

/** An absolute http(s) URL of bounded length; BAD_USER_INPUT before the flow is spent on a typo. */
function parseCallbackUrl(text: string): URL {
  try {
    const url = new URL(text);
    if (text.length <= maxCallbackUrlLength && (url.protocol === "https:" || url.protocol === "http:")) return url;
  } catch {
    // Reported below.
  }
  throw new BadUserInputError("callbackUrl", "Send the whole URL the provider redirected the browser to.");
}
