import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import { expect } from "vitest";
import type { GraphQLResponse, UntypedData } from "../../harness/graphql.js";
import type { TestServer } from "./server.js";
import type { TestAuthenticator } from "../../harness/test-authenticator.js";

export {
  appOrigin,
  passkeySettings,
  TestAuthenticator,
  type AuthenticationResponse,
  type RegistrationResponse,
} from "../../harness/test-authenticator.js";

export const passkeyDocuments = {
  beginRegistration: `mutation BeginRegistration($currentPassword: String) {
    beginPasskeyRegistration(currentPassword: $currentPassword) { challengeId options expiresAt }
  }`,
  finishRegistration: `mutation FinishRegistration($challengeId: ID!, $response: JSONObject!, $name: String) {
    finishPasskeyRegistration(challengeId: $challengeId, response: $response, name: $name) { id name createdAt lastUsedAt backedUp deviceType transports }
  }`,
  beginLogin: `mutation BeginLogin($usernameOrEmail: String, $mfaToken: String) {
    beginPasskeyLogin(usernameOrEmail: $usernameOrEmail, mfaToken: $mfaToken) { challengeId options expiresAt }
  }`,
  finishLogin: `mutation FinishLogin($challengeId: ID!, $response: JSONObject!) {
    finishPasskeyLogin(challengeId: $challengeId, response: $response) { accessToken refreshToken user { id username email } }
  }`,
  list: `query Passkeys { me { id passkeys { id name createdAt lastUsedAt backedUp deviceType transports } } }`,
  rename: `mutation Rename($id: ID!, $name: String!) { renamePasskey(id: $id, name: $name) { id name } }`,
  remove: `mutation Remove($id: ID!) { removePasskey(id: $id) }`,
};

export function ok(response: GraphQLResponse): UntypedData {
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  return response.data!;
}

/** The options and id of a registration the signed-in account begins (recently signed in: no password). */
export async function beginRegistration(server: TestServer, accessToken: string, currentPassword?: string) {
  return ok(await server.request(passkeyDocuments.beginRegistration, { currentPassword }, { token: accessToken }))
    .beginPasskeyRegistration as {
    challengeId: string;
    options: PublicKeyCredentialCreationOptionsJSON;
    expiresAt: string;
  };
}

/** Adds a passkey on `authenticator` to the signed-in account; the Passkey answered. */
export async function registerPasskey(
  server: TestServer,
  accessToken: string,
  authenticator: TestAuthenticator,
  name?: string,
) {
  const { challengeId, options } = await beginRegistration(server, accessToken);
  const response = authenticator.create(options);
  return ok(
    await server.request(passkeyDocuments.finishRegistration, { challengeId, response, name }, { token: accessToken }),
  ).finishPasskeyRegistration as {
    id: string;
    name: string;
    [field: string]: unknown;
  };
}

/** The options and id of a passkey sign-in, by name, with an mfaToken, or neither (discoverable). */
export async function beginLogin(server: TestServer, input: { usernameOrEmail?: string; mfaToken?: string } = {}) {
  return ok(await server.request(passkeyDocuments.beginLogin, input)).beginPasskeyLogin as {
    challengeId: string;
    options: PublicKeyCredentialRequestOptionsJSON;
    expiresAt: string;
  };
}

/** A whole passkey sign-in with `authenticator`; the answer of `finishPasskeyLogin`. */
export async function signInWithPasskey(
  server: TestServer,
  authenticator: TestAuthenticator,
  input: { usernameOrEmail?: string; mfaToken?: string } = {},
) {
  const { challengeId, options } = await beginLogin(server, input);
  return server.request(passkeyDocuments.finishLogin, { challengeId, response: authenticator.get(options) });
}
