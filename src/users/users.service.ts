import type { Database } from "../db/prisma.js";
import type { User } from "../generated/prisma/client.js";
import { isUserId } from "./identity.js";

export type UserRecord = User;

/**
 * Every authenticated request and every entity reference reads users, so this read goes straight
 * to the pool: Prisma's per-query work cost several times the query itself. The columns come back
 * named as Prisma's `User` fields (a test compares the two).
 */
const selectUsersById = `SELECT id, email, username, username_key AS "usernameKey", password_hash AS "passwordHash",
  created_at AS "createdAt", updated_at AS "updatedAt" FROM users WHERE id = ANY($1::uuid[])`;

export class UsersService {
  constructor(private readonly database: Database) {}

  /** In the order of `ids`, null for unknown ones; one SQL query whatever their number. */
  async findByIds(ids: readonly string[]): Promise<(UserRecord | null)[]> {
    const valid = [...new Set(ids.filter(isUserId).map((id) => id.toLowerCase()))];
    const users = valid.length === 0 ? [] : (await this.database.pool.query<UserRecord>(selectUsersById, [valid])).rows;
    const byId = new Map(users.map((user) => [user.id, user]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  }
}
