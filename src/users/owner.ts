import { isAdmin } from "../auth/roles.js";
import { ForbiddenError } from "../errors/errors.js";
import type { RequestContext } from "../graphql/context.js";

/** Whether the request speaks for `userId`: it holds their access token, or has just issued them one. */
export async function isOwner(context: RequestContext, userId: string): Promise<boolean> {
  if (context.tokensIssuedTo.has(userId)) return true;
  return (await context.viewer())?.userId === userId;
}

/** Whether the request may read the account's private fields (e-mail, roles…): its owner, or an admin. */
export async function isOwnerOrAdmin(context: RequestContext, userId: string): Promise<boolean> {
  if (context.tokensIssuedTo.has(userId)) return true;
  const viewer = await context.viewer();
  return viewer !== null && (viewer.userId === userId || isAdmin(viewer.roles));
}

/** A private field refused: FORBIDDEN, or only null once the response holds as many errors as it carries. */
export function forbiddenField(context: RequestContext, message: string): null {
  if (context.errorBudget.allows()) throw new ForbiddenError(message);
  return null;
}
