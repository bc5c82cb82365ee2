import DataLoader from "dataloader";
import type { UserRecord, UsersService } from "./users.service.js";

/** Per request: every user asked for in one tick is read with one query. */
export function createUserLoader(users: UsersService): DataLoader<string, UserRecord | null> {
  return new DataLoader((ids) => users.findByIds(ids), { maxBatchSize: 1000 });
}
