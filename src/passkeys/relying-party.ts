import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { InvalidPasskeyError } from "../errors/errors.js";
import { loadOnFirstUse } from "../load-on-first-use.js";

const webAuthn = loadOnFirstUse(() => import("@simplewebauthn/server"));

/** The WebAuthn relying party: answers are accepted from these origins and this RP ID only, never from the request's own. */
export interface PasskeySettings {
  rpId: string;
  rpName: string;
  origins: string[];
  challengeTtlSeconds: number;
}

/** A credential as the options name it: its id, and how the browser may reach its authenticator. */
export interface CredentialDescriptor {
  credentialId: string;
  transports: string[];
}

/** What a verified registration stores. */
export interface RegisteredCredential extends CredentialDescriptor {
  publicKey: Uint8Array<ArrayBuffer>;
  signCount: number;
  backedUp: boolean;
  deviceType: string;
  aaguid: string;
}

/** A stored credential, as an assertion is checked against it. */
export interface AssertingCredential {
  credentialId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  signCount: number;
}

/** A verified assertion: its signature holds for the challenge, origin and RP ID. */
export interface VerifiedAssertion {
  signCount: number;
  userVerified: boolean;
  backedUp: boolean;
  /**
   * The counter did not move past the stored one (and is not 0 on both sides, as authenticators
   * that keep none report): a copy of the authenticator may be in use.
   */
  counterRegressed: boolean;
}

/**
 * This service as a WebAuthn relying party: the options browsers get, and the verification of what
 * they answer. The expected origins and RP ID come from the settings only: behind a router the
 * request's own `Origin` is the router's.
 */
export class RelyingParty {
  constructor(private readonly settings: PasskeySettings) {}

  async registrationOptions(input: {
    userName: string;
    userHandle: string;
    exclude: CredentialDescriptor[];
  }): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const { generateRegistrationOptions } = await webAuthn();
    return generateRegistrationOptions({
      rpName: this.settings.rpName,
      rpID: this.settings.rpId,
      userName: input.userName,
      userDisplayName: input.userName,
      userID: Buffer.from(input.userHandle, "base64url"),
      timeout: this.settings.challengeTtlSeconds * 1000,
      attestationType: "none",
      excludeCredentials: input.exclude.map(toDescriptor),
      // Discoverable: the browser can offer it with no name typed (autofill).
      authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
    });
  }

  /** `allow` undefined: any discoverable credential of this RP ID (the browser's autofill). */
  async authenticationOptions(input: {
    allow?: CredentialDescriptor[];
    userVerification: "required" | "preferred";
  }): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const { generateAuthenticationOptions } = await webAuthn();
    return generateAuthenticationOptions({
      rpID: this.settings.rpId,
      allowCredentials: input.allow?.map(toDescriptor),
      userVerification: input.userVerification,
      timeout: this.settings.challengeTtlSeconds * 1000,
    });
  }

  /** The credential a registration answer attests; INVALID_PASSKEY when anything fails to verify. */
  async verifyRegistration(
    response: RegistrationResponseJSON,
    expectedChallenge: string,
  ): Promise<RegisteredCredential> {
    const { verifyRegistrationResponse } = await webAuthn();
    const verification = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: this.settings.origins,
      expectedRPID: this.settings.rpId,
      // Preferred, not required: a security key without a PIN may still be a passkey (not a second factor by itself).
      requireUserVerification: false,
    }).catch(() => null);
    if (!verification?.verified) throw new InvalidPasskeyError();
    const { credential, credentialBackedUp, credentialDeviceType, aaguid } = verification.registrationInfo;
    return {
      credentialId: credential.id,
      publicKey: new Uint8Array(credential.publicKey),
      signCount: credential.counter,
      transports: response.response.transports ?? [],
      backedUp: credentialBackedUp,
      deviceType: credentialDeviceType,
      aaguid,
    };
  }

  /** The assertion verified against `credential`; null when anything fails to verify. */
  async verifyAssertion(
    response: AuthenticationResponseJSON,
    expectedChallenge: string,
    credential: AssertingCredential,
  ): Promise<VerifiedAssertion | null> {
    const { verifyAuthenticationResponse } = await webAuthn();
    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: this.settings.origins,
      expectedRPID: this.settings.rpId,
      // The counter is compared below, so that a regression can be told from any other failure.
      credential: { id: credential.credentialId, publicKey: credential.publicKey, counter: 0 },
      // Whether user verification was required is the caller's to judge: it decides what the sign-in proves.
      requireUserVerification: false,
    }).catch(() => null);
    if (!verification?.verified) return null;
    const { newCounter, userVerified, credentialBackedUp } = verification.authenticationInfo;
    const counterRegressed = (newCounter > 0 || credential.signCount > 0) && newCounter <= credential.signCount;
    return { signCount: newCounter, userVerified, backedUp: credentialBackedUp, counterRegressed };
  }
}

function toDescriptor(credential: CredentialDescriptor): { id: string; transports: string[] } {
  return { id: credential.credentialId, transports: credential.transports };
}
