import DataLoader from "dataloader";
import type { UserRecord, UsersService } from "./users.service.js";

/** The loaders of one request that read users. */
export interface UserLoaders {
  userById: DataLoader<string, UserRecord | null>;
}

/** Per request: every user asked for in one tick is read with one query. */
export function createUserLoaders(users: UsersService): UserLoaders {
  return { userById: new DataLoader((ids) => users.findByIds(ids), { maxBatchSize: 1000 }) };
}
