import { BadUserInputError, InvalidRefreshTokenError, RefreshTokenReusedError } from "../errors/errors.js";
import type { RequestContext } from "../graphql/context.js";
import type { Delivered } from "../http/session-cookie.js";
import { markTokenOwner } from "../users/token-owner.js";
import type { AuthResult } from "./session-lifecycle.js";

/** An AuthPayload as the client receives it: without the refresh token in cookie mode. */
export type DeliveredAuth = Delivered<AuthResult>;

/**
 * Hands a new session's tokens to the client: the payload's user owns them for the rest of the
 * request, and in cookie mode the refresh token goes into the cookie, not the body. Every
 * operation that issues a refresh token answers through here.
 */
export async function deliverSession(context: RequestContext, result: Promise<AuthResult>): Promise<DeliveredAuth> {
  return context.transport.deliver(await markTokenOwner(context, result));
}

/**
 * Rotates the refresh token the request presents: the argument, or without it in cookie mode the
 * session cookie's. A cookie worth nothing any more (no token of ours, a session over, a reused
 * token that ended its session) is cleared.
 */
export async function refreshDelivered(
  context: RequestContext,
  argument: string | null | undefined,
  refresh: (refreshToken: string) => Promise<AuthResult>,
): Promise<DeliveredAuth> {
  const { transport } = context;
  const fromCookie = argument == null;
  const presented = argument ?? transport.cookieRefreshToken();
  if (presented === undefined) {
    if (transport.mode === "cookie") {
      transport.clear();
      throw new InvalidRefreshTokenError();
    }
    throw new BadUserInputError(
      "refreshToken",
      "Send the refresh token, or X-Session-Transport: cookie with the session cookie.",
    );
  }
  try {
    return await deliverSession(context, refresh(presented));
  } catch (error) {
    if ((fromCookie && error instanceof InvalidRefreshTokenError) || error instanceof RefreshTokenReusedError)
      transport.clear();
    throw error;
  }
}
