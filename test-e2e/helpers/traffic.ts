import type { BrowserContext, Page, Response } from "playwright-core";
import { expect } from "vitest";
import { refreshCookieName } from "../../src/http/session-cookie.js";

/** Every answer the app's pages received from the API, and every refresh cookie the browser was given. */
export class ApiTraffic {
  readonly bodies: string[] = [];
  readonly refreshCookies = new Set<string>();
  private readonly recording: Promise<void>[] = [];

  constructor(
    private readonly context: BrowserContext,
    private readonly apiUrl: string,
  ) {
    context.on("response", (response) => {
      if (response.url().startsWith(apiUrl)) this.recording.push(this.record(response));
    });
  }

  private async record(response: Response): Promise<void> {
    const setCookies = (await response.allHeaders())["set-cookie"]?.split("\n") ?? [];
    for (const cookie of setCookies) {
      const value = /^__Host-users_refresh=([^;]*)/.exec(cookie)?.[1];
      if (value) this.refreshCookies.add(value);
    }
    if (response.request().method() !== "OPTIONS") this.bodies.push(await response.text().catch(() => ""));
  }

  /** The browser's refresh cookie now (also noted among those seen). */
  async currentCookie(): Promise<{ value: string; httpOnly: boolean; secure: boolean; sameSite: string } | undefined> {
    const cookie = (await this.context.cookies(this.apiUrl)).find((candidate) => candidate.name === refreshCookieName);
    if (cookie) this.refreshCookies.add(cookie.value);
    return cookie;
  }

  /**
   * No refresh token ever reached script: no answer's body holds one of the cookies the browser was
   * given, every `refreshToken` in them is null, and the page's `document.cookie` shows none.
   */
  async expectNoRefreshTokenReachedScript(page: Page): Promise<void> {
    await Promise.all(this.recording);
    expect(this.refreshCookies.size).toBeGreaterThan(0);
    const documentCookie = await page.evaluate(() => document.cookie);
    expect(documentCookie).not.toContain(refreshCookieName);
    for (const value of this.refreshCookies) {
      expect(documentCookie).not.toContain(value);
      for (const body of this.bodies) expect(body).not.toContain(value);
    }
    for (const body of this.bodies) {
      for (const [, value] of body.matchAll(/"refreshToken":(null|"[^"]*")/g)) expect(value).toBe("null");
    }
  }
}
