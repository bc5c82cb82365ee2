import type { IncomingHttpHeaders } from "node:http";

/** The request header that asks for cookie mode. */
export const sessionTransportHeader = "x-session-transport";

/**
 * Where a browser keeps the refresh token: `__Host-` makes browsers accept it only as Secure, for
 * this host alone (no Domain) and the whole path, so a sibling subdomain cannot plant or shadow it.
 */
export const refreshCookieName = "__Host-users_refresh";

const cookieAttributes = "HttpOnly; Secure; SameSite=Strict; Path=/";

/** Refresh tokens are 43 base64url characters; anything far from that is no token of ours. */
const cookieValue = /^[A-Za-z0-9_-]{1,128}$/;

/** `bearer`: the refresh token travels in the body (mobile and server clients); `cookie`: only in the cookie (browsers). */
export type SessionTransportMode = "bearer" | "cookie";

/** The mode a request asks for; null when its header names none. */
export function requestedTransport(headers: IncomingHttpHeaders): SessionTransportMode | null {
  const mode = String(headers[sessionTransportHeader] ?? "")
    .trim()
    .toLowerCase();
  // An empty header is no header, as an empty setting is no setting.
  if (mode === "") return "bearer";
  return mode === "cookie" || mode === "bearer" ? mode : null;
}

/** The refresh cookie's value as sent in a `Cookie` header (the first, if several); undefined without one. */
function presentedCookieValue(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const pair of cookieHeader.split(";")) {
    const separator = pair.indexOf("=");
    if (separator !== -1 && pair.slice(0, separator).trim() === refreshCookieName)
      return pair.slice(separator + 1).trim();
  }
  return undefined;
}

/** The refresh cookie's value, when it can be a token of ours. */
export function refreshCookieIn(cookieHeader: string | undefined): string | undefined {
  const value = presentedCookieValue(cookieHeader);
  return value !== undefined && cookieValue.test(value) ? value : undefined;
}

/** Whether a request carries our cookie (whatever its value) or asks for cookie mode: what a cross-site request could abuse. */
export function isCookieBearing(headers: IncomingHttpHeaders): boolean {
  return requestedTransport(headers) === "cookie" || presentedCookieValue(headers.cookie) !== undefined;
}

/** A payload of tokens as the client receives it: without the refresh token in cookie mode. */
export type Delivered<Tokens extends { refreshToken: string }> = Omit<Tokens, "refreshToken"> & {
  refreshToken: string | null;
};

/** One request's session transport: the cookie it presented and the one its answer sets. */
export class SessionTransport {
  readonly mode: SessionTransportMode;
  private readonly presentedCookie: string | undefined;
  private readonly cookieBearing: boolean;
  private responseCookie: string | undefined;

  /** For a request whose transport header was checked (`requestedTransport` not null). */
  constructor(
    headers: IncomingHttpHeaders,
    private readonly cookieMaxAgeSeconds: number,
  ) {
    this.mode = requestedTransport(headers) ?? "bearer";
    this.presentedCookie = refreshCookieIn(headers.cookie);
    this.cookieBearing = isCookieBearing(headers);
  }

  /** The refresh token of the cookie, read only in cookie mode: a bearer answer would hand it to script. */
  cookieRefreshToken(): string | undefined {
    return this.mode === "cookie" ? this.presentedCookie : undefined;
  }

  /** In cookie mode the refresh token moves from the body to the cookie. */
  deliver<Tokens extends { refreshToken: string }>(tokens: Tokens): Delivered<Tokens> {
    if (this.mode === "bearer") return tokens;
    this.responseCookie = `${refreshCookieName}=${tokens.refreshToken}; ${cookieAttributes}; Max-Age=${this.cookieMaxAgeSeconds}`;
    return { ...tokens, refreshToken: null };
  }

  /** The session is over for this browser: its cookie goes (a bearer client that sent none is told nothing). */
  clear(): void {
    if (this.cookieBearing) this.responseCookie = `${refreshCookieName}=; ${cookieAttributes}; Max-Age=0`;
  }

  /** The `Set-Cookie` value of the answer, if any. */
  get setCookie(): string | undefined {
    return this.responseCookie;
  }
}
