import type { RequestContext } from "../graphql/context.js";

/**
 * Marks the user a payload hands tokens to as their owner for the rest of the request, so that
 * they see their own private fields in the same answer (`isOwner` reads the mark).
 */
export async function markTokenOwner<T extends { user: { id: string } }>(
  context: RequestContext,
  result: Promise<T>,
): Promise<T> {
  const payload = await result;
  context.tokensIssuedTo.add(payload.user.id);
  return payload;
}
