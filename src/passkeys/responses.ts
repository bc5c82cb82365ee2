import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { z } from "zod";
import { InvalidPasskeyError } from "../errors/errors.js";

/** Base64url without padding, as WebAuthn's JSON forms carry bytes, at most `max` characters. */
const base64url = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/);

/** A credential id is at most 1023 bytes. */
const credentialId = base64url(1364);

/** The transports WebAuthn names; others are dropped, not stored. */
const knownTransports = new Set(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]);

const registrationShape = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal("public-key"),
  response: z.object({
    clientDataJSON: base64url(8_192),
    // Attestation statements may carry certificate chains.
    attestationObject: base64url(65_536),
    transports: z.array(z.string().max(32)).max(16).optional(),
  }),
});

const assertionShape = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal("public-key"),
  response: z.object({
    clientDataJSON: base64url(8_192),
    authenticatorData: base64url(8_192),
    signature: base64url(8_192),
    // A user handle is at most 64 bytes.
    userHandle: base64url(86).nullish(),
  }),
});

/**
 * `startRegistration`'s answer, as `finishPasskeyRegistration` received it: only the members the
 * verification reads, each bounded; anything else is INVALID_PASSKEY, like a failed verification.
 */
export function parseRegistration(response: unknown): RegistrationResponseJSON {
  const parsed = registrationShape.safeParse(response);
  if (!parsed.success) throw new InvalidPasskeyError();
  const { transports = [], ...attestation } = parsed.data.response;
  return {
    ...parsed.data,
    response: {
      ...attestation,
      transports: [...new Set(transports.filter((transport) => knownTransports.has(transport)))],
    },
    clientExtensionResults: {},
  };
}

/** `startAuthentication`'s answer, as `finishPasskeyLogin` received it; INVALID_PASSKEY when malformed. */
export function parseAssertion(response: unknown): AuthenticationResponseJSON {
  const parsed = assertionShape.safeParse(response);
  if (!parsed.success) throw new InvalidPasskeyError();
  const { userHandle, ...assertion } = parsed.data.response;
  return {
    ...parsed.data,
    response: { ...assertion, ...(userHandle ? { userHandle } : {}) },
    clientExtensionResults: {},
  };
}
