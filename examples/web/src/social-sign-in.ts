import type { DocumentNode } from "@apollo/client";
import { ApiError, mutate, query } from "./api";
import { CompleteSocialLogin, IdentityProviders, StartSocialLogin, type Tokens } from "./operations";
import { action } from "./ui";

/** The app's callback page: APP_URL/auth/callback, the redirect URI the subgraph allows by default. */
export const callbackPath = "/auth/callback";

/** Where this tab keeps the flow it started, for the callback page: the tab's own storage, which the provider's pages cannot reach. */
const flowKey = "social-sign-in-flow";

/** A "Sign in with …" button for each provider one can sign in with now; none when the list cannot be had. */
export async function providerButtons(): Promise<Node[]> {
  const providers = await query<{ identityProviders: { id: string; name: string }[] }>(IdentityProviders).then(
    (data) => data.identityProviders,
    () => [],
  );
  return providers.map(
    (provider) => action(`Sign in with ${provider.name}`, () => leaveFor(StartSocialLogin, provider.id)).element,
  );
}

/**
 * Starts the flow (`StartSocialLogin` to sign in, `LinkIdentity` to link) and sends the browser to the
 * provider, which sends it back to the callback page.
 */
export async function leaveFor(start: DocumentNode, provider: string): Promise<void> {
  const { flow } = await mutate<{ flow: { authorizationUrl: string; flowId: string } }>(start, {
    provider,
    redirectUri: `${location.origin}${callbackPath}`,
  });
  sessionStorage.setItem(flowKey, flow.flowId);
  location.assign(flow.authorizationUrl);
}

/**
 * On the callback page: completes the flow this tab started (a sign-in, or a link, which signs in
 * again) with the address the provider sent the browser to. A flow works once: it is forgotten, and
 * the code taken out of the address bar and the history, before anything else.
 */
export async function completeSocialSignIn(): Promise<Tokens> {
  const callbackUrl = location.href;
  const flowId = sessionStorage.getItem(flowKey);
  sessionStorage.removeItem(flowKey);
  history.replaceState(null, "", callbackPath);
  if (!flowId)
    throw new ApiError("INVALID_CHALLENGE", "This sign-in was not started here, or is over. Start it again.");
  const { completeSocialLogin } = await mutate<{ completeSocialLogin: Tokens }>(CompleteSocialLogin, {
    flowId,
    callbackUrl,
  });
  return completeSocialLogin;
}
