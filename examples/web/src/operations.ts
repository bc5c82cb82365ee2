import { gql } from "@apollo/client";

// What a sign-in returns to the app: in cookie mode the refresh token is never in it.
const tokens = `accessToken accessTokenExpiresAt user { id username }`;

export const Register = gql`mutation Register($input: RegisterInput!) { register(input: $input) { ${tokens} } }`;
export const Login = gql`mutation Login($input: LoginInput!) { login(input: $input) { ${tokens} } }`;
export const CompleteLogin = gql`mutation CompleteLogin($mfaToken: String!, $code: String!) { completeLogin(mfaToken: $mfaToken, code: $code) { ${tokens} } }`;
export const RefreshSession = gql`mutation RefreshSession { refreshSession { ${tokens} } }`;
export const Logout = gql`mutation Logout { logout }`;

export const VerifyEmail = gql`mutation VerifyEmail($token: String!) { verifyEmail(token: $token) }`;
export const RequestEmailVerification = gql`mutation RequestEmailVerification { requestEmailVerification }`;
export const EnrollTotp = gql`mutation EnrollTotp($currentPassword: String!) { enrollTotp(currentPassword: $currentPassword) { secret qrCodeDataUrl } }`;
export const ConfirmTotp = gql`mutation ConfirmTotp($code: String!) { confirmTotp(code: $code) }`;
export const BeginPasskeyRegistration = gql`mutation BeginPasskeyRegistration($currentPassword: String) { beginPasskeyRegistration(currentPassword: $currentPassword) { challengeId options } }`;
export const FinishPasskeyRegistration = gql`mutation FinishPasskeyRegistration($challengeId: ID!, $response: JSONObject!, $name: String) { finishPasskeyRegistration(challengeId: $challengeId, response: $response, name: $name) { id } }`;
export const RemovePasskey = gql`mutation RemovePasskey($id: ID!) { removePasskey(id: $id) }`;
export const BeginPasskeyLogin = gql`mutation BeginPasskeyLogin($usernameOrEmail: String, $mfaToken: String) { beginPasskeyLogin(usernameOrEmail: $usernameOrEmail, mfaToken: $mfaToken) { challengeId options } }`;
export const FinishPasskeyLogin = gql`mutation FinishPasskeyLogin($challengeId: ID!, $response: JSONObject!) { finishPasskeyLogin(challengeId: $challengeId, response: $response) { ${tokens} } }`;
export const IdentityProviders = gql`query IdentityProviders { identityProviders { id name } }`;
// Both answer as `flow`: the browser is sent to the provider the same way (social-sign-in.ts).
export const StartSocialLogin = gql`mutation StartSocialLogin($provider: ID!, $redirectUri: String!) { flow: startSocialLogin(provider: $provider, redirectUri: $redirectUri) { authorizationUrl flowId } }`;
export const CompleteSocialLogin = gql`mutation CompleteSocialLogin($flowId: ID!, $callbackUrl: String!) { completeSocialLogin(flowId: $flowId, callbackUrl: $callbackUrl) { ${tokens} } }`;
export const LinkIdentity = gql`mutation LinkIdentity($provider: ID!, $redirectUri: String!) { flow: linkIdentity(provider: $provider, redirectUri: $redirectUri) { authorizationUrl flowId } }`;
export const UnlinkIdentity = gql`mutation UnlinkIdentity($id: ID!) { unlinkIdentity(id: $id) }`;
export const RevokeSession = gql`mutation RevokeSession($id: ID!) { revokeSession(id: $id) }`;

export const Account = gql`query Account {
  me {
    id username email emailVerified hasPassword totpEnabled createdAt
    passkeys { id name createdAt lastUsedAt }
    identities { id provider email }
  }
  identityProviders { id name }
  sessions { id lastUsedAt userAgent current }
  securityEvents(first: 20) { edges { node { id kind at ip } } }
}`;

export interface AccountData {
  me: {
    id: string;
    username: string;
    email: string;
    emailVerified: boolean;
    hasPassword: boolean;
    totpEnabled: boolean;
    createdAt: string;
    passkeys: { id: string; name: string; createdAt: string; lastUsedAt: string | null }[];
    identities: { id: string; provider: string; email: string | null }[];
  };
  identityProviders: { id: string; name: string }[];
  sessions: { id: string; lastUsedAt: string; userAgent: string | null; current: boolean }[];
  securityEvents: { edges: { node: { id: string; kind: string; at: string; ip: string | null } }[] };
}

export interface Tokens {
  accessToken: string;
  accessTokenExpiresAt: string;
  user: { id: string; username: string };
}

/** A WebAuthn ceremony begun: the options for the browser, and the id to finish it with. */
export interface PasskeyChallenge<Options> {
  challengeId: string;
  options: Options;
}
