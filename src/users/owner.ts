import type { Context } from "../graphql/context.js";

/** Whether the request speaks for `userId`: it holds their access token, or has just issued them one. */
export async function isOwner(context: Context, userId: string): Promise<boolean> {
  if (context.tokensIssuedTo.has(userId)) return true;
  return (await context.viewer())?.userId === userId;
}
