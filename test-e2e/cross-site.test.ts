import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CookieClient } from "../test/helpers/browser-client.js";
import { mutations } from "../harness/graphql.js";
import { linkToken } from "../test/helpers/mail.js";
import { startAttackerSite, type AttackerSite } from "./helpers/attacker.js";
import { launchChromium } from "./helpers/chromium.js";
import { useExample } from "./helpers/example.js";
import { ApiTraffic } from "./helpers/traffic.js";

// A victim signed in to the example app; pages of other origins, in the same browser, try to use
// the session: one on the same site (another port of localhost), one on another site (127.0.0.1).
const example = useExample();
const victim = { email: "victim@example.com", username: "victim", password: "victim's long password" };
const attacker = { email: "mallory@example.com", username: "mallory", password: "mallory's long password" };
let browser: Browser;
let context: BrowserContext;
let app: Page;
let traffic: ApiTraffic;
let site: AttackerSite;

beforeAll(async () => {
  // The attacker's own account, verified, whose session it would like the victim's browser to hold.
  const bearer = new CookieClient(example().gatewayUrl, { transport: null });
  await bearer.request(mutations.register, { input: attacker });
  await bearer.request(`mutation($token: String!) { verifyEmail(token: $token) }`, {
    token: linkToken(await example().mail.waitFor(attacker.email), "verify-email"),
  });
  site = await startAttackerSite(example().gatewayUrl, example().subgraphUrl, attacker);

  browser = await launchChromium();
  context = await browser.newContext();
  traffic = new ApiTraffic(context, example().gatewayUrl);
  app = await context.newPage();
  await app.goto(`${example().appUrl}/register`);
  await app.fill("input[name=email]", victim.email);
  await app.fill("input[name=username]", victim.username);
  await app.fill("input[name=password]", victim.password);
  await app.click("button[type=submit]");
  await app.locator("h1", { hasText: "Hello, victim" }).waitFor();
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
});

/** The attacker's page at `origin`: its attempts' results, the answers to its forms, and whether each form carried the cookie. */
async function attackFrom(origin: string) {
  const page = await context.newPage();
  const cookieSentTo: Record<string, boolean[]> = { gateway: [], subgraph: [] };
  // The forms' requests: a fetch whose answer the page may not read is reported without its cookie header.
  page.on("request", async (request) => {
    const target = request.url().startsWith(example().gatewayUrl)
      ? "gateway"
      : request.url().startsWith(example().subgraphUrl)
        ? "subgraph"
        : null;
    if (target && request.resourceType() === "document")
      cookieSentTo[target]!.push("cookie" in (await request.allHeaders()));
  });
  await page.goto(`${origin}/`);
  const attacks = await page.evaluate(
    () =>
      (window as unknown as { attacks: Promise<Record<string, { blocked?: string; status?: number; type?: string }>> })
        .attacks,
  );
  const answers: Record<string, string> = {};
  for (const form of ["routed", "direct"]) {
    const frame = page.frame({ name: form })!;
    await Promise.all([
      frame.waitForNavigation(),
      page.evaluate((id) => (document.getElementById(id) as HTMLFormElement).submit(), form),
    ]);
    answers[form] = (await frame.locator("body").textContent()) ?? "";
  }
  await page.close();
  return { attacks, answers, cookieSentTo };
}

describe.each([
  ["the same site (another port of localhost)", () => `http://localhost:${site.port}`, true],
  ["another site (127.0.0.1)", () => `http://127.0.0.1:${site.port}`, false],
])("a page of %s", (_name, origin, sameSite) => {
  it("cannot refresh the victim's session, nor sign the browser in to another account", async () => {
    const before = (await traffic.currentCookie())!.value;
    const { attacks, answers, cookieSentTo } = await attackFrom(origin());

    // CORS: the gateway gives the page's preflight no permission, so no cookie-mode request leaves the browser.
    expect(attacks.refresh!.blocked).toMatch(/TypeError/);
    expect(attacks.login!.blocked).toMatch(/TypeError/);
    // Without a preflight the request is sent but its answer is opaque to the page.
    expect(attacks.refreshWithoutPreflight).toMatchObject({ type: "opaque", status: 0 });
    expect(attacks.loginWithoutPreflight).toMatchObject({ type: "opaque", status: 0 });

    // SameSite=Strict: the cookie travels only with requests of the victim's own site.
    expect(cookieSentTo).toEqual({ gateway: [sameSite], subgraph: [sameSite] });
    // The router's CSRF prevention refuses a form; the subgraph refuses the cookie from another origin
    // (same site) or, without it, the form that lacks Apollo's CSRF header.
    expect(answers.routed).toContain("Required CSRF header(s) not present");
    expect(answers.direct).toContain(sameSite ? "FORBIDDEN_ORIGIN" : "apollo-require-preflight");
    for (const answer of Object.values(answers)) expect(answer).not.toContain("accessToken");

    // Nothing rotated, nothing replaced: the browser holds the victim's cookie as before.
    expect((await traffic.currentCookie())!.value).toBe(before);
  });

  it("leaves the victim signed in, with no session more", async () => {
    await app.reload();
    await app.locator("h1", { hasText: "Hello, victim" }).waitFor();
    expect(await app.locator(".sessions li").count()).toBe(1);
    await traffic.expectNoRefreshTokenReachedScript(app);
  });
});
