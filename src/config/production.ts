import type { z } from "zod";
import { originUnder } from "./web-origins.js";

/** What production cannot run without: nothing of the development defaults (files, in-process stores) will do. */
const requiredInProduction = [
  "DATABASE_URL",
  "REDIS_URL",
  "JWT_PRIVATE_KEYS",
  "ENCRYPTION_KEYS",
  "SMTP_URL",
  "MAIL_FROM",
  "APP_URL",
  "WEBAUTHN_ORIGINS",
] as const;

type ProductionSettings = { NODE_ENV: string; WEBAUTHN_RP_ID: string; WEBAUTHN_ORIGINS?: string[] } & {
  [name in (typeof requiredInProduction)[number]]?: unknown;
};

/** In production: every required setting present, and passkey origins a browser would accept. */
export function checkProductionSettings(env: ProductionSettings, ctx: z.RefinementCtx): void {
  if (env.NODE_ENV !== "production") return;
  for (const name of requiredInProduction) {
    if (env[name] === undefined) ctx.addIssue({ code: "custom", path: [name], message: "is required in production" });
  }
  // Browsers refuse passkeys of an RP ID the page is not on: such a setting could never work.
  for (const origin of env.WEBAUTHN_ORIGINS ?? []) {
    if (!originUnder(origin, env.WEBAUTHN_RP_ID)) {
      ctx.addIssue({
        code: "custom",
        path: ["WEBAUTHN_ORIGINS"],
        message: `lists ${origin}, which is not on WEBAUTHN_RP_ID ${env.WEBAUTHN_RP_ID} or a subdomain of it`,
      });
    }
  }
}
