import { createHmac } from "node:crypto";
import type { CredentialDescriptor } from "./relying-party.js";

/**
 * The allow-list for a name no account has, or an account with no passkey, must look like an
 * account's real one, or options would tell which names exist: a made-up credential, the same for
 * the same name every time, on every instance (the key is derived from the shared encryption key).
 */
export class DecoyCredentials {
  constructor(private readonly key: Buffer) {}

  for(identifier: string): CredentialDescriptor[] {
    const credentialId = createHmac("sha256", this.key).update(identifier).digest("base64url");
    return [{ credentialId, transports: ["hybrid", "internal"] }];
  }
}
