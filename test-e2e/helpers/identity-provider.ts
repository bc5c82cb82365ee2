import type { Page } from "playwright-core";
import { afterAll } from "vitest";
import { TestOpenIdProvider } from "../../test/helpers/openid-provider.js";
import { useExample } from "./example.js";

/** The name the sign-in button shows: "Sign in with Company SSO". */
export const providerName = "Company SSO";

/**
 * `useExample` with one OpenID provider to sign in with: a real one (oidc-provider on loopback)
 * that knows the app's callback page, started once the app's address is known.
 */
export function useExampleWithProvider(settings: NodeJS.ProcessEnv = {}) {
  let idp: TestOpenIdProvider | undefined;
  const example = useExample(async (appUrl) => {
    idp = await TestOpenIdProvider.start({ redirectUris: [`${appUrl}/auth/callback`] });
    return { ...settings, IDENTITY_PROVIDERS: JSON.stringify([idp.setting("company", providerName)]) };
  });
  afterAll(() => idp?.close());
  return { example, provider: () => idp! };
}

/** A person at the provider's own pages: signs in as `login` (any password will do there), then consents. */
export async function signInAtProvider(page: Page, provider: TestOpenIdProvider, login: string): Promise<void> {
  await page.waitForURL(`${provider.issuer}/**`);
  for (const [prompt, fields] of [
    ["login", { login, password: "any password" }],
    ["consent", {}],
  ] as const) {
    await page.locator(`input[name=prompt][value=${prompt}]`).waitFor({ state: "attached" });
    for (const [name, value] of Object.entries(fields)) await page.fill(`input[name=${name}]`, value);
    await page.click("button[type=submit]");
  }
}
