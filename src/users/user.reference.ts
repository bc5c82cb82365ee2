import type { Context } from "../graphql/context.js";
import type { UserRecord } from "./users.service.js";

/** `_entities` for `User`: every representation of one request goes through one batched query. */
export function resolveUserReference(reference: { id: string }, context: Context): Promise<UserRecord | null> {
  return context.loaders.userById.load(reference.id);
}
