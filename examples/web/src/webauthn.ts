import { ApiError } from "./api";

// Passkeys with the browser's own WebAuthn and its JSON helpers (no library): the options the API
// gives go in as they are, and the credential's JSON goes back to it.

/** One WebAuthn request at a time: a new one cancels the one pending (the sign-in page's autofill). */
let pending: AbortController | null = null;

function nextRequest(): AbortSignal {
  pending?.abort();
  pending = new AbortController();
  return pending.signal;
}

/** The browser's refusal (the user cancelled, no passkey here…) as an error the forms show. */
async function asked(request: Promise<Credential | null>, refused: string): Promise<PublicKeyCredentialJSON> {
  try {
    return ((await request) as PublicKeyCredential).toJSON();
  } catch (error) {
    if (isCancelled(error)) throw error;
    throw new ApiError("PASSKEY_NOT_USED", refused);
  }
}

/** Creates a passkey on this device for `beginPasskeyRegistration`'s options. */
export function createPasskey(options: PublicKeyCredentialCreationOptionsJSON): Promise<PublicKeyCredentialJSON> {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
  return asked(navigator.credentials.create({ publicKey, signal: nextRequest() }), "No passkey was created.");
}

/**
 * Signs `beginPasskeyLogin`'s challenge with a passkey the user picks: in the browser's dialog, or
 * with `autofill` from the suggestions of the field marked `autocomplete="username webauthn"`.
 */
export function usePasskey(
  options: PublicKeyCredentialRequestOptionsJSON,
  autofill = false,
): Promise<PublicKeyCredentialJSON> {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
  const mediation = autofill ? { mediation: "conditional" as const } : {};
  return asked(navigator.credentials.get({ publicKey, signal: nextRequest(), ...mediation }), "No passkey was used.");
}

/** Whether this browser can offer passkeys among a field's autofill suggestions. */
export async function canAutofillPasskeys(): Promise<boolean> {
  return (await PublicKeyCredential.isConditionalMediationAvailable?.()) ?? false;
}

/** The error of a request a newer one cancelled: nothing to show. */
export function isCancelled(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}
