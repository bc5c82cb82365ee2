import type { Page } from "playwright-core";

/** A credential as the DevTools protocol lists it (and takes it back, to copy a passkey to another browser). */
export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
}

export interface VirtualAuthenticator {
  /** The credentials it holds. */
  credentials(): Promise<VirtualCredential[]>;
}

/**
 * A platform authenticator for `page`, through the DevTools protocol: it keeps discoverable
 * credentials (`copied`, to begin with) and verifies its user as a fingerprint reader would,
 * answering every request at once.
 */
export async function addVirtualAuthenticator(
  page: Page,
  copied: VirtualCredential[] = [],
): Promise<VirtualAuthenticator> {
  const devtools = await page.context().newCDPSession(page);
  await devtools.send("WebAuthn.enable");
  const { authenticatorId } = await devtools.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  for (const credential of copied) await devtools.send("WebAuthn.addCredential", { authenticatorId, credential });
  return {
    credentials: async () => (await devtools.send("WebAuthn.getCredentials", { authenticatorId })).credentials,
  };
}
