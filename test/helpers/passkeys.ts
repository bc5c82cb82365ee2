import { createRequire } from "node:module";
import { expect } from "vitest";
import type { GraphQLResponse } from "./graphql.js";
import type { TestServer } from "./server.js";

// A CommonJS package: its classes come through require from this ES module.
const emulatorLibrary = createRequire(import.meta.url)("nid-webauthn-emulator") as typeof import("nid-webauthn-emulator");
type Repository = import("nid-webauthn-emulator").PasskeysCredentialsRepository;
type Credential = import("nid-webauthn-emulator").PasskeyDiscoverableCredential;

/** The app's pages that call WebAuthn: the only origin the test servers accept (RP ID `localhost`). */
export const appOrigin = "http://localhost:5173";
export const passkeySettings = { WEBAUTHN_RP_ID: "localhost", WEBAUTHN_ORIGINS: appOrigin };

/** Credentials kept by id, which a test may copy and put back (an authenticator cloned, then used apart). */
class SnapshotRepository implements Repository {
  readonly credentials = new Map<string, string>();

  saveCredential(credential: Credential): void {
    this.credentials.set(emulatorLibrary.getRepositoryId(credential), emulatorLibrary.serializeCredential(credential));
  }

  deleteCredential(credential: Credential): void {
    this.credentials.delete(emulatorLibrary.getRepositoryId(credential));
  }

  loadCredentials(): Credential[] {
    return [...this.credentials.values()].map((data) => emulatorLibrary.deserializeCredential(data));
  }
}

/**
 * A software FIDO2 authenticator (with the browser's part of WebAuthn) holding credentials of its
 * own; `userVerified: false` makes one that proves presence only, as a security key without a PIN.
 */
export class TestAuthenticator {
  readonly repository = new SnapshotRepository();
  private readonly emulator: InstanceType<typeof emulatorLibrary.default>;

  /** `signCounterIncrement: 0`: keeps no counter (reports 0), as synced passkeys do. */
  constructor(options: { userVerified?: boolean; signCounterIncrement?: number } = {}) {
    const interaction = () => ({ options: { uv: options.userVerified ?? true, up: true } });
    const authenticator = new emulatorLibrary.AuthenticatorEmulator({
      credentialsRepository: this.repository,
      signCounterIncrement: options.signCounterIncrement ?? 1,
      userMakeCredentialInteraction: interaction,
      userGetAssertionInteraction: interaction,
    });
    this.emulator = new emulatorLibrary.default(authenticator);
  }

  /** `navigator.credentials.create()` on a page at `origin`, as `startRegistration` returns it. */
  create(options: Record<string, any>, origin = appOrigin, relatedOrigins: string[] = []): Record<string, any> {
    return this.emulator.createJSON(origin, options as never, relatedOrigins) as never;
  }

  /** `navigator.credentials.get()` on a page at `origin`, as `startAuthentication` returns it. */
  get(options: Record<string, any>, origin = appOrigin, relatedOrigins: string[] = []): Record<string, any> {
    return this.emulator.getJSON(origin, options as never, relatedOrigins) as never;
  }

  /** Its credentials as they are now, to `restore` later. */
  snapshot(): Map<string, string> {
    return new Map(this.repository.credentials);
  }

  restore(snapshot: Map<string, string>): void {
    this.repository.credentials.clear();
    for (const [id, data] of snapshot) this.repository.credentials.set(id, data);
  }

  /** Changes the RP ID a stored credential believes it belongs to (so that it signs for another). */
  moveToRelyingParty(rpId: string): void {
    for (const [id, data] of this.repository.credentials) {
      const credential = emulatorLibrary.deserializeCredential(data);
      const moved = { ...credential, publicKeyCredentialSource: { ...credential.publicKeyCredentialSource, rpId: new emulatorLibrary.RpId(rpId) } };
      this.repository.credentials.set(id, emulatorLibrary.serializeCredential(moved));
    }
  }
}

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

export function ok(response: GraphQLResponse): Record<string, any> {
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  return response.data!;
}

/** The options and id of a registration the signed-in account begins (recently signed in: no password). */
export async function beginRegistration(server: TestServer, accessToken: string, currentPassword?: string) {
  return ok(await server.request(passkeyDocuments.beginRegistration, { currentPassword }, { token: accessToken })).beginPasskeyRegistration as {
    challengeId: string;
    options: Record<string, any>;
    expiresAt: string;
  };
}

/** Adds a passkey on `authenticator` to the signed-in account; the Passkey answered. */
export async function registerPasskey(server: TestServer, accessToken: string, authenticator: TestAuthenticator, name?: string) {
  const { challengeId, options } = await beginRegistration(server, accessToken);
  const response = authenticator.create(options);
  return ok(await server.request(passkeyDocuments.finishRegistration, { challengeId, response, name }, { token: accessToken })).finishPasskeyRegistration as {
    id: string;
    name: string;
    [field: string]: unknown;
  };
}

/** The options and id of a passkey sign-in, by name, with an mfaToken, or neither (discoverable). */
export async function beginLogin(server: TestServer, input: { usernameOrEmail?: string; mfaToken?: string } = {}) {
  return ok(await server.request(passkeyDocuments.beginLogin, input)).beginPasskeyLogin as { challengeId: string; options: Record<string, any>; expiresAt: string };
}

/** A whole passkey sign-in with `authenticator`; the answer of `finishPasskeyLogin`. */
export async function signInWithPasskey(server: TestServer, authenticator: TestAuthenticator, input: { usernameOrEmail?: string; mfaToken?: string } = {}) {
  const { challengeId, options } = await beginLogin(server, input);
  return server.request(passkeyDocuments.finishLogin, { challengeId, response: authenticator.get(options) });
}
