import type { Database } from "../db/prisma.js";
import type { User } from "../generated/prisma/client.js";
import { isUserId } from "./identity.js";

/** What the GraphQL `User` shows; never the password hash. */
export type UserRecord = Pick<User, "id" | "username" | "email" | "createdAt">;

/**
 * Every authenticated request and every entity reference reads users, so this read goes straight
 * to the pool: Prisma's per-query work cost several times the query itself. The columns come back
 * named as Prisma's `User` fields (a test compares the two); the instant as epoch milliseconds,
 * which is much cheaper to turn into a Date than PostgreSQL's text form.
 */
const selectUsersById = `SELECT id, username, email, (EXTRACT(EPOCH FROM created_at) * 1000)::float8 AS "createdAt"
  FROM users WHERE id = ANY($1::uuid[])`;

type UserRow = Omit<UserRecord, "createdAt"> & { createdAt: number };

export class UsersService {
  constructor(private readonly database: Database) {}

  /** In the order of `ids`, null for unknown ones; one SQL query whatever their number. */
  async findByIds(ids: readonly string[]): Promise<(UserRecord | null)[]> {
    const valid = [...new Set(ids.filter(isUserId).map((id) => id.toLowerCase()))];
    const rows = valid.length === 0 ? [] : (await this.database.pool.query<UserRow>(selectUsersById, [valid])).rows;
    const byId = new Map(rows.map((row): [string, UserRecord] => [row.id, { ...row, createdAt: new Date(row.createdAt) }]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  }
}
