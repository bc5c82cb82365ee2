import type { z } from "zod";
import { identityProviderGroup } from "../identities/settings.js";
import { passkeyGroup } from "../passkeys/settings.js";

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

type ProductionSettings = { NODE_ENV: string } & {
  [name in (typeof requiredInProduction)[number]]?: unknown;
} & Parameters<typeof passkeyGroup.checkForProduction>[0] &
  Parameters<typeof identityProviderGroup.checkForProduction>[0];

/** In production: every required setting present, and what each settings group refuses there. */
export function checkProductionSettings(env: ProductionSettings, ctx: z.RefinementCtx): void {
  if (env.NODE_ENV !== "production") return;
  for (const name of requiredInProduction) {
    if (env[name] === undefined) ctx.addIssue({ code: "custom", path: [name], message: "is required in production" });
  }
  passkeyGroup.checkForProduction(env, ctx);
  identityProviderGroup.checkForProduction(env, ctx);
}
