import { createRequire } from "node:module";

// A CommonJS package: its classes come through require from this ES module.
const emulatorLibrary = createRequire(import.meta.url)(
  "nid-webauthn-emulator",
) as typeof import("nid-webauthn-emulator");
type Repository = import("nid-webauthn-emulator").PasskeysCredentialsRepository;
type Credential = import("nid-webauthn-emulator").PasskeyDiscoverableCredential;
type CreationOptions = import("nid-webauthn-emulator").PublicKeyCredentialCreationOptionsJSON;
type RequestOptions = import("nid-webauthn-emulator").PublicKeyCredentialRequestOptionsJSON;
/** What `create` answers: a registration response as the browser serializes it. */
export type RegistrationResponse = import("nid-webauthn-emulator").RegistrationResponseJSON;
/** What `get` answers: a sign-in (assertion) response as the browser serializes it. */
export type AuthenticationResponse = import("nid-webauthn-emulator").AuthenticationResponseJSON;

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

  /**
   * `navigator.credentials.create()` on a page at `origin`, as `startRegistration` returns it;
   * `options` as the server sent them, or as a test altered them.
   */
  create(options: object, origin = appOrigin, relatedOrigins: string[] = []): RegistrationResponse {
    return this.emulator.createJSON(origin, options as CreationOptions, relatedOrigins);
  }

  /** `navigator.credentials.get()` on a page at `origin`, as `startAuthentication` returns it; `options` likewise. */
  get(options: object, origin = appOrigin, relatedOrigins: string[] = []): AuthenticationResponse {
    return this.emulator.getJSON(origin, options as RequestOptions, relatedOrigins);
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
      const moved = {
        ...credential,
        publicKeyCredentialSource: { ...credential.publicKeyCredentialSource, rpId: new emulatorLibrary.RpId(rpId) },
      };
      this.repository.credentials.set(id, emulatorLibrary.serializeCredential(moved));
    }
  }
}
