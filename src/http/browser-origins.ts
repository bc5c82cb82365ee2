import type { IncomingMessage, ServerResponse } from "node:http";
import { isCookieBearing } from "./session-cookie.js";
import { originList } from "./web-origins.js";

/** Browsers' pages: who may call with credentials, and how long the session cookie lives. */
export interface BrowserSettings {
  /** Origins whose pages may call the API with credentials (CORS) and use the session cookie. */
  corsOrigins: string[];
  /** The session cookie's `Max-Age`: the refresh token's lifetime. */
  sessionCookieMaxAgeSeconds: number;
}

/**
 * The browser group of the configuration: `CORS_ORIGINS`, by default the app's own origin
 * (`APP_URL`'s), since the page that signs in is the one that calls. REFRESH_TOKEN_TTL, which the
 * cookie's lifetime follows, belongs to the sessions' settings.
 */
export const browserGroup = {
  /** Its variables, parsed. */
  variables: { CORS_ORIGINS: originList },

  /** The settings the variables make. */
  settings(env: { CORS_ORIGINS?: string[]; REFRESH_TOKEN_TTL: number }, appUrl: string): BrowserSettings {
    return {
      corsOrigins: env.CORS_ORIGINS ?? [new URL(appUrl).origin],
      sessionCookieMaxAgeSeconds: env.REFRESH_TOKEN_TTL,
    };
  },
};

/** What a page may send cross-origin: JSON, the access token, cookie mode, and Apollo's CSRF-prevention headers. */
const allowedRequestHeaders =
  "content-type, authorization, x-session-transport, apollo-require-preflight, x-apollo-operation-name";

/**
 * The web origins whose pages may call the API with credentials (`CORS_ORIGINS`). Every other page
 * gets no CORS permission, and the session cookie never acts for it: browsers send `Origin` with
 * every POST and every cross-origin request, so a cookie-bearing request naming another origin is
 * refused whatever else it holds. A request without `Origin` comes from no browser page's script.
 */
export class BrowserOrigins {
  private readonly listed: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.listed = new Set(origins);
  }

  private listedOrigin(request: IncomingMessage): string | undefined {
    const { origin } = request.headers;
    return origin !== undefined && this.listed.has(origin) ? origin : undefined;
  }

  private credentialsAllowed(origin: string): Record<string, string> {
    return { "access-control-allow-origin": origin, "access-control-allow-credentials": "true" };
  }

  /** A CORS preflight: permission for a listed origin, an answer without any for the others (the browser then stops). */
  answerPreflight(request: IncomingMessage, response: ServerResponse): void {
    const origin = this.listedOrigin(request);
    const permission = origin
      ? {
          ...this.credentialsAllowed(origin),
          "access-control-allow-methods": "GET, POST",
          "access-control-allow-headers": allowedRequestHeaders,
          "access-control-max-age": "600",
        }
      : {};
    response.writeHead(204, { vary: "origin", ...permission });
    response.end();
  }

  /** Lets a listed origin's page read the answer; other pages' scripts cannot. */
  allowResponse(request: IncomingMessage, response: ServerResponse): void {
    response.setHeader("vary", "origin");
    const origin = this.listedOrigin(request);
    if (!origin) return;
    for (const [name, value] of Object.entries(this.credentialsAllowed(origin))) response.setHeader(name, value);
  }

  /** A request that carries the session cookie (or asks for cookie mode) from a page of an origin not listed. */
  refuses(request: IncomingMessage): boolean {
    return (
      request.headers.origin !== undefined &&
      this.listedOrigin(request) === undefined &&
      isCookieBearing(request.headers)
    );
  }
}
