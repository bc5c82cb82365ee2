import type { RequestContext } from "../graphql/context.js";
import type { UserLoaders } from "./user.loader.js";
import type { UserRecord } from "./users.service.js";

/** `_entities` for `User`: every representation of one request goes through one batched query. */
export async function resolveUserReference(
  reference: { id?: unknown },
  context: RequestContext<UserLoaders>,
): Promise<UserRecord | null> {
  // Representations are client input: an id that is not a string names no user, and must not
  // reach the batch, where it would fail every other representation with it.
  if (typeof reference.id !== "string") return null;
  return context.loaders.userById.load(reference.id);
}
