import { expect } from "vitest";
import { refreshCookieName } from "../../src/http/session-cookie.js";
import type { GraphQLResponse } from "../../harness/graphql.js";

/** The refresh cookie as one `Set-Cookie` header set it. */
export interface SetRefreshCookie {
  value: string;
  /** Every attribute after the value, as sent (`HttpOnly`, `Max-Age=…`). */
  attributes: string[];
  maxAge: number | undefined;
}

/** The data of an answer whose shape a test does not spell out: as `graphql` gives it. */
type AnyData = NonNullable<GraphQLResponse["data"]>;

export interface CookieResponse<T = AnyData> extends GraphQLResponse<T> {
  /** The refresh cookie this answer set (or cleared: `maxAge` 0), if any. */
  refreshCookie?: SetRefreshCookie;
  /** Every `Set-Cookie` header of the answer. */
  setCookies: string[];
  /** The body exactly as received. */
  text: string;
  headers: Headers;
}

/** The refresh cookie of a `Set-Cookie` list; undefined when none names it. */
export function refreshCookieOf(setCookies: string[]): SetRefreshCookie | undefined {
  const header = setCookies.find((cookie) => cookie.startsWith(`${refreshCookieName}=`));
  if (!header) return undefined;
  const [pair, ...attributes] = header.split(";").map((part) => part.trim());
  const maxAge = attributes.find((attribute) => /^max-age=/i.test(attribute));
  return {
    value: pair!.slice(refreshCookieName.length + 1),
    attributes,
    maxAge: maxAge ? Number(maxAge.split("=")[1]) : undefined,
  };
}

/**
 * A browser's view of the API over HTTP, without the browser: cookie mode (unless `transport` says
 * otherwise), the refresh cookie kept as a browser keeps it (replaced, or deleted by `Max-Age=0`),
 * sent back with each request, and the page's `Origin`.
 */
export class CookieClient {
  cookie: string | undefined;

  constructor(
    private readonly url: string,
    private readonly options: { origin?: string; transport?: "cookie" | "bearer" | null; userAgent?: string } = {},
  ) {}

  async request<T = AnyData>(
    query: string,
    variables: Record<string, unknown> = {},
    extra: { token?: string; headers?: Record<string, string> } = {},
  ): Promise<CookieResponse<T>> {
    const { origin, transport = "cookie", userAgent } = this.options;
    const response = await fetch(this.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(transport ? { "x-session-transport": transport } : {}),
        ...(origin ? { origin } : {}),
        ...(userAgent ? { "user-agent": userAgent } : {}),
        ...(this.cookie !== undefined ? { cookie: `${refreshCookieName}=${this.cookie}` } : {}),
        ...(extra.token ? { authorization: `Bearer ${extra.token}` } : {}),
        ...extra.headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    const setCookies = response.headers.getSetCookie();
    const refreshCookie = refreshCookieOf(setCookies);
    if (refreshCookie) this.cookie = refreshCookie.maxAge === 0 ? undefined : refreshCookie.value;
    return {
      status: response.status,
      ...(JSON.parse(text) as Omit<GraphQLResponse<T>, "status">),
      refreshCookie,
      setCookies,
      text,
      headers: response.headers,
    };
  }
}

/** The payload of the answer's one root field, which must have no error. */
export function payloadOf(response: CookieResponse): {
  accessToken: string;
  refreshToken: string | null;
  user: { id: string };
} {
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  return Object.values(response.data!)[0];
}

/**
 * An answer in cookie mode: the token in a fresh cookie with every attribute (its `Max-Age` the
 * one given, or any), none in the body; the cookie's value.
 */
export function expectCookieDelivery(response: CookieResponse, maxAgeSeconds?: number): string {
  expect(payloadOf(response).refreshToken).toBeNull();
  const cookie = response.refreshCookie!;
  expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(cookie.attributes).toEqual([
    "HttpOnly",
    "Secure",
    "SameSite=Strict",
    "Path=/",
    maxAgeSeconds === undefined ? expect.stringMatching(/^Max-Age=[1-9]\d*$/) : `Max-Age=${maxAgeSeconds}`,
  ]);
  expect(response.setCookies).toHaveLength(1);
  expect(response.text).not.toContain(cookie.value);
  return cookie.value;
}

/** The answer clears the cookie, and sets nothing else. */
export function expectCleared(response: CookieResponse): void {
  expect(response.setCookies).toEqual([`${refreshCookieName}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0`]);
}
