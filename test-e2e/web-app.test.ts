import { generate } from "otplib";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CookieClient } from "../test/helpers/browser-client.js";
import { errorCodes } from "../harness/graphql.js";
import { launchChromium } from "./helpers/chromium.js";
import { providerName, useExampleWithProvider } from "./helpers/identity-provider.js";
import { screenshot } from "./helpers/screenshots.js";
import { ApiTraffic } from "./helpers/traffic.js";
import { addVirtualAuthenticator, type VirtualAuthenticator } from "./helpers/virtual-authenticator.js";

// The example app in headless Chromium, through Hive Gateway in cookie mode: one account's life,
// step by step, each test going on from where the previous one left the browser. A provider to sign
// in with is configured, as the screenshots show it; test-e2e/social-sign-in.test.ts signs in with it.
const { example } = useExampleWithProvider();
const ada = { email: "ada@example.com", username: "ada", password: "analytical engine 1843" };
let browser: Browser;
let context: BrowserContext;
let page: Page;
let traffic: ApiTraffic;
let totpSecret: string;
let recoveryCodes: string[];
let authenticator: VirtualAuthenticator;

beforeAll(async () => {
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 900, height: 760 } });
  traffic = new ApiTraffic(context, example().gatewayUrl);
  page = await context.newPage();
});
afterAll(async () => {
  await browser?.close();
});

/** Waits for the page whose heading is `text` (the address changes before the page is drawn). */
const shows = (text: string, target = page) => target.locator("h1", { hasText: text }).waitFor();

/** A code of the authenticator app, `steps` time steps (30 s) ahead: each code works once per account. */
const authenticatorCode = (steps: number) =>
  generate({ secret: totpSecret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });

async function signIn(target: Page, username: string, password: string): Promise<void> {
  await target.fill("input[name=usernameOrEmail]", username);
  await target.fill("input[name=password]", password);
  await target.click("button[type=submit]");
}

it("shows the sign-in page to a visitor, its username field offered to passkey autofill", async () => {
  await page.goto(example().appUrl);
  await page.waitForURL("**/sign-in");
  await shows("Sign in");
  expect(await page.getAttribute("input[name=usernameOrEmail]", "autocomplete")).toBe("username webauthn");
  await page.getByRole("button", { name: "Sign in with a passkey" }).waitFor();
  await page.getByRole("button", { name: `Sign in with ${providerName}` }).waitFor();
  await screenshot(page, "sign-in");
  // The code step without a login waiting for a code, and the account page without a session, lead here too.
  for (const path of ["/sign-in/code", "/account"]) {
    await page.goto(`${example().appUrl}${path}`);
    await page.waitForURL("**/sign-in");
    await shows("Sign in");
  }
});

it("registers: signed in at once, the refresh token only in an HttpOnly, Secure, SameSite=Strict cookie", async () => {
  await page.click("text=Register");
  await page.fill("input[name=email]", ada.email);
  await page.fill("input[name=username]", ada.username);
  await page.fill("input[name=password]", ada.password);
  await page.click("button[type=submit]");
  await page.waitForURL("**/account");
  await shows("Hello, ada");
  await expect(page.locator("dd", { hasText: ada.email }).textContent()).resolves.toContain("not verified yet");
  expect(await traffic.currentCookie()).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict" });
  await traffic.expectNoRefreshTokenReachedScript(page);
});

it("verifies the address by the mailed link", async () => {
  const mail = await example().mail.waitFor(ada.email);
  const link = new RegExp(`${example().appUrl}/verify-email\\?token=[\\w-]+`).exec(mail.text)?.[0];
  expect(link).toBeDefined();
  await page.goto(link!);
  await expect(page.getByRole("status").textContent()).resolves.toBe("Your e-mail address is verified.");
  expect(page.url()).toBe(`${example().appUrl}/verify-email`);
  await page.click("text=Continue");
  await page.waitForURL("**/account");
  await expect(page.locator("dd", { hasText: ada.email }).textContent()).resolves.toContain("(verified)");
});

it("keeps the session across a reload: a new access token from the cookie", async () => {
  const before = (await traffic.currentCookie())!.value;
  await page.reload();
  await page.waitForURL("**/account");
  await shows("Hello, ada");
  const after = (await traffic.currentCookie())!.value;
  expect(after).not.toBe(before);
  await traffic.expectNoRefreshTokenReachedScript(page);
});

it("turns on two-factor authentication: the QR code, a first code, then the recovery codes", async () => {
  await page.fill("input[name=currentPassword]", ada.password);
  await page.click("text=Turn on");
  const qr = page.locator("img[alt^='QR code']");
  await qr.waitFor();
  expect(await qr.getAttribute("src")).toMatch(/^data:image\/png;base64,/);
  totpSecret = ((await page.locator("code[data-secret]").textContent()) ?? "").trim();
  await screenshot(page, "totp-enrollment");
  await page.fill("input[name=code]", await authenticatorCode(0));
  await page.click("text=Confirm");
  await page.locator(".codes li").first().waitFor();
  recoveryCodes = await page.locator(".codes li").allInnerTexts();
  expect(recoveryCodes).toHaveLength(10);
  await page.click("text=Done");
  await page.getByText("On: signing in asks for a code").waitFor();
});

it("signs out: the cookie is cleared, and a reload stays signed out", async () => {
  const last = (await traffic.currentCookie())!.value;
  await page.click("text=Sign out");
  await page.waitForURL("**/sign-in");
  expect(await traffic.currentCookie()).toBeUndefined();
  await page.reload();
  await page.waitForURL("**/sign-in");
  await shows("Sign in");
  // The cookie's last value, replayed by whoever copied it, is worth nothing now.
  const replay = Object.assign(new CookieClient(example().gatewayUrl, { origin: example().appUrl }), { cookie: last });
  expect(errorCodes(await replay.request("mutation { refreshSession { accessToken } }"))).toEqual([
    "INVALID_REFRESH_TOKEN",
  ]);
});

it("signs in with the password, then the authenticator code", async () => {
  await signIn(page, ada.username, ada.password);
  await page.waitForURL("**/sign-in/code");
  await shows("Two-factor authentication");
  await screenshot(page, "totp-step");
  await page.fill("input[name=code]", await authenticatorCode(1));
  await page.click("button[type=submit]");
  await page.waitForURL("**/account");
  await shows("Hello, ada");
  await page.getByText("this browser").waitFor();
  const events = await page.locator(".events li span").allInnerTexts();
  expect(events).toEqual(
    expect.arrayContaining(["registered", "email verified", "mfa enabled", "login succeeded", "session ended"]),
  );
});

it("lists a second device's session and revokes it: that device is signed out", async () => {
  const phone = await browser.newContext({ userAgent: "Phone/1.0" });
  try {
    const phonePage = await phone.newPage();
    await phonePage.goto(`${example().appUrl}/sign-in`);
    await signIn(phonePage, ada.email, ada.password);
    await phonePage.waitForURL("**/sign-in/code");
    await phonePage.fill("input[name=code]", recoveryCodes[0]!);
    await phonePage.click("button[type=submit]");
    await phonePage.waitForURL("**/account");

    await page.reload();
    const phoneSession = page.locator(".sessions li", { hasText: "Phone/1.0" });
    await phoneSession.waitFor();
    await phoneSession.locator("button").click();
    await phoneSession.waitFor({ state: "detached" });
    expect(await page.locator(".sessions li").count()).toBe(1);

    // The open page learns it at its next request (its access token is refused), a reload from the cookie.
    await phonePage.evaluate(() => window.dispatchEvent(new PopStateEvent("popstate")));
    await shows("Sign in", phonePage);
    await phonePage.reload();
    await shows("Sign in", phonePage);
    expect((await phone.cookies()).map((cookie) => cookie.name)).toEqual([]);
  } finally {
    await phone.close();
  }
});

it("adds a passkey from the account page, on this device's authenticator", async () => {
  authenticator = await addVirtualAuthenticator(page);
  await page.getByText("None yet").waitFor();
  await page.fill("input[name=name]", "This laptop");
  await page.click("text=Add a passkey");
  const added = page.locator(".passkeys li", { hasText: "This laptop" });
  await added.waitFor();
  await expect(added.textContent()).resolves.toContain("never used");
  // A discoverable credential of the RP ID `localhost`, the page's host, as WEBAUTHN_RP_ID defaults.
  expect(await authenticator.credentials()).toEqual([
    expect.objectContaining({ rpId: "localhost", isResidentCredential: true }),
  ]);
});

it("signs in from the username field's passkey autofill: no password, no code", async () => {
  await page.click("text=Sign out");
  // The sign-in page asks for a passkey with autofill (conditional mediation) as it opens; Chromium's
  // virtual authenticator answers at once, as a user picking the passkey among the suggestions.
  const used = page.locator(".passkeys li", { hasText: "last used" });
  await used.waitFor();
  expect(page.url()).toBe(`${example().appUrl}/account`);
  expect(await traffic.currentCookie()).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict" });
  await traffic.expectNoRefreshTokenReachedScript(page);
  await page.reload();
  await shows("Hello, ada");
  await screenshot(page, "account");
});

it("in a browser without passkey autofill, signs in with the button, and completes a password sign-in with the passkey", async () => {
  // The same passkey, synced to another browser that offers no passkeys among a field's suggestions.
  const other = await browser.newContext({ userAgent: "Other/1.0" });
  try {
    await other.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    const otherTraffic = new ApiTraffic(other, example().gatewayUrl);
    const otherPage = await other.newPage();
    const synced = await addVirtualAuthenticator(otherPage, await authenticator.credentials());
    const signCount = (await synced.credentials())[0]!.signCount;
    await otherPage.goto(`${example().appUrl}/sign-in`);
    await shows("Sign in", otherPage);
    await otherPage.click("text=Sign in with a passkey");
    await shows("Hello, ada", otherPage);

    await otherPage.click("text=Sign out");
    await shows("Sign in", otherPage);
    await signIn(otherPage, ada.username, ada.password);
    await otherPage.waitForURL("**/sign-in/code");
    await otherPage.click("text=Use a passkey instead");
    await shows("Hello, ada", otherPage);
    expect((await synced.credentials())[0]!.signCount).toBe(signCount + 2);
    expect(await otherTraffic.currentCookie()).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict" });
    await otherTraffic.expectNoRefreshTokenReachedScript(otherPage);
  } finally {
    await other.close();
  }
});

it("never let a refresh token reach script, from the first page to the last", async () => {
  await traffic.expectNoRefreshTokenReachedScript(page);
  expect(traffic.bodies.length).toBeGreaterThan(10);
  expect(traffic.refreshCookies.size).toBeGreaterThan(3);
});
