import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchChromium } from "./helpers/chromium.js";
import { useExample } from "./helpers/example.js";
import { addVirtualAuthenticator, type VirtualAuthenticator } from "./helpers/virtual-authenticator.js";

// Adding a passkey long after signing in: with REAUTHENTICATION_WINDOW at 0s every sign-in is old,
// so the account page asks for the password before it creates the passkey.
const example = useExample({ REAUTHENTICATION_WINDOW: "0s", REQUIRE_EMAIL_VERIFICATION: "false" });
const grace = { email: "grace@example.com", username: "grace", password: "compiler of 1952" };
let browser: Browser;
let page: Page;
let authenticator: VirtualAuthenticator;

beforeAll(async () => {
  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
  authenticator = await addVirtualAuthenticator(page);
});
afterAll(async () => {
  await browser?.close();
});

const passkeysCard = () => page.locator(".card", { has: page.locator("h2", { hasText: "Passkeys" }) });

it("asks for the password, refuses a wrong one, then adds the passkey; it can be removed", async () => {
  await page.goto(`${example().appUrl}/register`);
  await page.fill("input[name=email]", grace.email);
  await page.fill("input[name=username]", grace.username);
  await page.fill("input[name=password]", grace.password);
  await page.click("button[type=submit]");
  await page.locator("h1", { hasText: "Hello, grace" }).waitFor();

  await passkeysCard().locator("input[name=name]").fill("Work laptop");
  await passkeysCard().getByRole("button", { name: "Add a passkey" }).click();
  const password = passkeysCard().locator("input[name=currentPassword]");
  await password.fill("not the password");
  await passkeysCard().getByRole("button", { name: "Continue" }).click();
  await passkeysCard().getByRole("alert").filter({ hasText: /\S/ }).waitFor();
  expect(await authenticator.credentials()).toEqual([]);

  await password.fill(grace.password);
  await passkeysCard().getByRole("button", { name: "Continue" }).click();
  const added = passkeysCard().locator(".passkeys li", { hasText: "Work laptop" });
  await added.waitFor();
  expect(await authenticator.credentials()).toHaveLength(1);

  await added.getByRole("button", { name: "Remove" }).click();
  await passkeysCard().getByText("None yet").waitFor();
});
