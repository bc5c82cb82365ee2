import { isIP } from "node:net";
import { z } from "zod";
import { originList } from "../http/web-origins.js";
import type { PasskeySettings } from "./relying-party.js";

/** A domain name, as a WebAuthn RP ID must be (an IP address cannot be one). */
const relyingPartyId = z
  .string()
  .trim()
  .toLowerCase()
  .default("localhost")
  .refine(
    (name) =>
      isIP(name) === 0 &&
      /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(name),
    {
      message: "must be a domain name such as example.com (no scheme, port or IP address)",
    },
  );

/** Whether a page at `origin` may use passkeys of `rpId`: its host is the RP ID or under it. */
function originUnder(origin: string, rpId: string): boolean {
  const host = new URL(origin).hostname;
  return host === rpId || host.endsWith(`.${rpId}`);
}

interface PasskeyVariables {
  WEBAUTHN_RP_ID: string;
  WEBAUTHN_RP_NAME?: string;
  WEBAUTHN_ORIGINS?: string[];
  WEBAUTHN_CHALLENGE_TTL: number;
  TOTP_ISSUER: string;
}

/**
 * The feature's group of the configuration. WEBAUTHN_CHALLENGE_TTL is a duration, which the
 * configuration parses as it parses every other.
 */
export const passkeyGroup = {
  /** Its variables, parsed. */
  variables: {
    WEBAUTHN_RP_ID: relyingPartyId,
    WEBAUTHN_RP_NAME: z.string().trim().min(1).max(64).optional(),
    WEBAUTHN_ORIGINS: originList,
  },

  /** The relying party: named as authenticator apps name the service, and the app's own origin unless told. */
  settings(env: PasskeyVariables, appUrl: string): PasskeySettings {
    return {
      rpId: env.WEBAUTHN_RP_ID,
      rpName: env.WEBAUTHN_RP_NAME ?? env.TOTP_ISSUER,
      origins: env.WEBAUTHN_ORIGINS ?? [new URL(appUrl).origin],
      challengeTtlSeconds: env.WEBAUTHN_CHALLENGE_TTL,
    };
  },

  /** Browsers refuse passkeys of an RP ID the page is not on: such a setting could never work. */
  checkForProduction(env: PasskeyVariables, ctx: z.RefinementCtx): void {
    for (const origin of env.WEBAUTHN_ORIGINS ?? []) {
      if (!originUnder(origin, env.WEBAUTHN_RP_ID)) {
        ctx.addIssue({
          code: "custom",
          path: ["WEBAUTHN_ORIGINS"],
          message: `lists ${origin}, which is not on WEBAUTHN_RP_ID ${env.WEBAUTHN_RP_ID} or a subdomain of it`,
        });
      }
    }
  },
};
