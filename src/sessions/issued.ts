import type { Context } from "../graphql/context.js";
import type { DeliveredAuth } from "./session-cookie.js";
import type { AuthResult } from "./session-lifecycle.js";

/**
 * The payload's user holds the tokens it carries, so they are its owner for the rest of the request;
 * in cookie mode its refresh token goes into the cookie, not the body.
 */
export async function issued(context: Context, result: Promise<AuthResult>): Promise<DeliveredAuth> {
  const payload = await result;
  context.tokensIssuedTo.add(payload.user.id);
  return context.transport.deliver(payload);
}
