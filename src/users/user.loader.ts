import DataLoader from "dataloader";
import type { UserRecord, UsersService } from "./users.service.js";

/** The loaders of one request that read users. */
export interface UserLoaders {
  userById: DataLoader<string, UserRecord | null>;
  /** From a replica when one serves: another subgraph's view of users, a public profile. */
  userByIdMayLag: DataLoader<string, UserRecord | null>;
}

/** Per request: every user asked for in one tick is read with one query. */
export function createUserLoaders(users: UsersService): UserLoaders {
  return {
    userById: new DataLoader((ids) => users.findByIds(ids), { maxBatchSize: 1000 }),
    userByIdMayLag: new DataLoader((ids) => users.findByIdsMayLag(ids), { maxBatchSize: 1000 }),
  };
}
