import type { RequestContext } from "../graphql/context.js";
import type { AuthResult } from "./session-lifecycle.js";

/** The payload's user holds the tokens it carries, so they are its owner for the rest of the request. */
export async function issued(context: RequestContext, result: Promise<AuthResult>): Promise<AuthResult> {
  const payload = await result;
  context.tokensIssuedTo.add(payload.user.id);
  return payload;
}
