import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CookieClient } from "../test/helpers/browser-client.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import { launchChromium } from "./helpers/chromium.js";
import { providerName, signInAtProvider, useExampleWithProvider } from "./helpers/identity-provider.js";
import { ApiTraffic } from "./helpers/traffic.js";

// "Sign in with Company SSO" in the example app, in headless Chromium: to a real OpenID provider's
// pages and back to the app's callback page, the session then in cookie mode as after a password.
const { example, provider } = useExampleWithProvider();
const lin = { email: "lin@example.com", preferredUsername: "lin" };
let browser: Browser;
let login: string;

beforeAll(async () => {
  browser = await launchChromium();
  login = provider().addAccount({ ...lin, emailVerified: true });
});
afterAll(async () => {
  await browser?.close();
});

const shows = (page: Page, text: string) => page.locator("h1", { hasText: text }).waitFor();

/** A browser of its own: its context, its traffic with the API, a page on the sign-in page. */
async function freshBrowser(): Promise<{ context: BrowserContext; traffic: ApiTraffic; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 900, height: 760 } });
  const traffic = new ApiTraffic(context, example().gatewayUrl);
  const page = await context.newPage();
  await page.goto(`${example().appUrl}/sign-in`);
  await shows(page, "Sign in");
  return { context, traffic, page };
}

/** From the sign-in page: the button, the provider's pages as `as`, and back to the app. */
async function signInWithProvider(page: Page, as: string): Promise<void> {
  await page.getByRole("button", { name: `Sign in with ${providerName}` }).click();
  await signInAtProvider(page, provider(), as);
  await page.waitForURL(`${example().appUrl}/**`);
}

it("signs a new person in with the provider: an account of theirs, the session only in the cookie", async () => {
  const { context, traffic, page } = await freshBrowser();
  try {
    await signInWithProvider(page, login);
    await shows(page, "Hello, lin");
    expect(page.url()).toBe(`${example().appUrl}/account`);
    // The provider vouched for the address: verified at once, no link to follow.
    await expect(page.locator("dd", { hasText: lin.email }).textContent()).resolves.toContain("(verified)");
    // No password to confirm it with: two-factor authentication is not offered.
    await page.getByText("this account signs in without one").waitFor();
    expect(await page.getByRole("button", { name: "Turn on" }).count()).toBe(0);
    expect(await traffic.currentCookie()).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict" });
    await traffic.expectNoRefreshTokenReachedScript(page);
    // The flow is forgotten, and the callback's code never stayed in the address bar's history.
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.goBack();
    expect(page.url()).not.toContain("code=");
  } finally {
    await context.close();
  }
});

it("signs the same person in again from another browser: the same account, a session of its own", async () => {
  const { context, traffic, page } = await freshBrowser();
  try {
    await signInWithProvider(page, login);
    await shows(page, "Hello, lin");
    await page.locator(".sessions li").nth(1).waitFor();
    expect(await page.locator(".sessions li").count()).toBe(2);
    await page.reload();
    await shows(page, "Hello, lin");
    await traffic.expectNoRefreshTokenReachedScript(page);
  } finally {
    await context.close();
  }
});

it("tells a person whose address an account holds to sign in the usual way, and signs in no one", async () => {
  const taken = { email: "taken@example.com", username: "taken", password: "a password of its own" };
  const registered = await new CookieClient(example().subgraphUrl, { transport: null }).request(mutations.register, {
    input: taken,
  });
  expect(errorCodes(registered)).toEqual([]);
  const { context, traffic, page } = await freshBrowser();
  try {
    await signInWithProvider(page, provider().addAccount({ email: taken.email, emailVerified: true }));
    await shows(page, "Sign in");
    await expect(page.getByRole("alert").textContent()).resolves.toMatch(/^An account already has this e-mail address/);
    expect(page.url()).toBe(`${example().appUrl}/auth/callback`);
    expect(await traffic.currentCookie()).toBeUndefined();
    await page.click("text=Back to sign in");
    await page.waitForURL("**/sign-in");
  } finally {
    await context.close();
  }
});

it("completes nothing on a callback page this browser did not start a sign-in for", async () => {
  const { context, traffic, page } = await freshBrowser();
  try {
    await page.goto(`${example().appUrl}/auth/callback?code=forged&state=forged`);
    await expect(page.getByRole("alert").textContent()).resolves.toMatch(/not started here/);
    expect(page.url()).toBe(`${example().appUrl}/auth/callback`);
    expect(await traffic.currentCookie()).toBeUndefined();
  } finally {
    await context.close();
  }
});

it("links the provider to an account with a password from the account page, lists it, then unlinks it", async () => {
  const grace = { email: "grace@example.com", username: "grace", password: "a password of her own" };
  const { context, traffic, page } = await freshBrowser();
  try {
    await page.click("text=Register");
    for (const [name, value] of Object.entries(grace)) await page.fill(`input[name=${name}]`, value);
    await page.click("button[type=submit]");
    await shows(page, "Hello, grace");
    // Verified by the mailed link, as the web-app test does.
    const mail = await example().mail.waitFor(grace.email);
    await page.goto(new RegExp(`${example().appUrl}/verify-email\\?token=[\\w-]+`).exec(mail.text)![0]);
    await page.click("text=Continue");
    await shows(page, "Hello, grace");
    await page.getByText("No provider linked yet").waitFor();

    await page.getByRole("button", { name: `Link ${providerName}` }).click();
    await signInAtProvider(
      page,
      provider(),
      provider().addAccount({ email: "grace@work.example", emailVerified: false }),
    );
    await page.waitForURL(`${example().appUrl}/account`);
    const linked = page.locator(".identities li");
    await linked.waitFor();
    await expect(linked.textContent()).resolves.toMatch(new RegExp(`^${providerName}grace@work\\.example`));
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await traffic.expectNoRefreshTokenReachedScript(page);

    await linked.getByRole("button", { name: "Unlink" }).click();
    await page.getByText("No provider linked yet").waitFor();
    expect(await linked.count()).toBe(0);
    await page.reload();
    await shows(page, "Hello, grace");
    expect(await page.locator(".identities li").count()).toBe(0);
  } finally {
    await context.close();
  }
});

it("shows why the provider that made an account cannot be unlinked: its only way to sign in", async () => {
  const { context, page } = await freshBrowser();
  try {
    await signInWithProvider(page, login);
    await shows(page, "Hello, lin");
    const identity = page.locator(".identities li");
    await identity.getByRole("button", { name: "Unlink" }).click();
    await expect(identity.getByRole("alert").textContent()).resolves.toMatch(
      /^This is the account's last way to sign in/,
    );
    await page.reload();
    await shows(page, "Hello, lin");
    expect(await page.locator(".identities li").count()).toBe(1);
  } finally {
    await context.close();
  }
});
