import type { Database } from "../db/prisma.js";
import type { User } from "../generated/prisma/client.js";
import { isUserId } from "./identity.js";

export type UserRecord = User;

export class UsersService {
  constructor(private readonly database: Database) {}

  /** In the order of `ids`, null for unknown ones; one SQL query whatever their number. */
  async findByIds(ids: readonly string[]): Promise<(UserRecord | null)[]> {
    const valid = [...new Set(ids.filter(isUserId).map((id) => id.toLowerCase()))];
    const users = valid.length === 0 ? [] : await this.database.user.findMany({ where: { id: { in: valid } } });
    const byId = new Map(users.map((user) => [user.id, user]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  }
}
