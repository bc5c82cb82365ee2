import { expect } from "vitest";
import type { GraphQLResponse } from "../../harness/graphql.js";
import type { TestServer } from "./server.js";

/** The identity-provider operations, as an app sends them. */
export const identityDocuments = {
  providers: `query { identityProviders { id name } }`,
  start: `mutation($provider: ID!, $redirectUri: String!) {
    startSocialLogin(provider: $provider, redirectUri: $redirectUri) { authorizationUrl flowId }
  }`,
  complete: `mutation($flowId: ID!, $callbackUrl: String!) {
    completeSocialLogin(flowId: $flowId, callbackUrl: $callbackUrl) {
      accessToken refreshToken
      user { id username email emailVerified hasPassword identities { id provider email linkedAt } }
    }
  }`,
  link: `mutation($provider: ID!, $redirectUri: String!) {
    linkIdentity(provider: $provider, redirectUri: $redirectUri) { authorizationUrl flowId }
  }`,
  unlink: `mutation($id: ID!) { unlinkIdentity(id: $id) }`,
  me: `query { me { id email emailVerified hasPassword identities { id provider email linkedAt } } }`,
};

export interface Started {
  authorizationUrl: string;
  flowId: string;
}

/** The browser's part at a provider: from its authorization URL to the URL it redirects back to. */
export type BrowserAtProvider = (authorizationUrl: string) => Promise<string>;

/** One app talking to one test server: start, the browser's part, completion. */
export function socialLoginClient(server: () => TestServer, redirectUri: string) {
  const request = (query: string, variables: Record<string, unknown>, token?: string) =>
    server().request(query, variables, token ? { token } : {});

  async function start(provider: string, token?: string): Promise<Started> {
    const response = await request(
      token ? identityDocuments.link : identityDocuments.start,
      { provider, redirectUri },
      token,
    );
    expect(response.errors).toBeUndefined();
    return token ? response.data!.linkIdentity : response.data!.startSocialLogin;
  }

  const complete = (flowId: string, callbackUrl: string, token?: string) =>
    request(identityDocuments.complete, { flowId, callbackUrl }, token);

  /** Start, the browser's part, completion: `completeSocialLogin`'s answer. With `token`, a link of the viewer's. */
  async function signIn(provider: string, browser: BrowserAtProvider, token?: string): Promise<GraphQLResponse> {
    const started = await start(provider, token);
    return complete(started.flowId, await browser(started.authorizationUrl), token);
  }

  return { request, start, complete, signIn };
}
