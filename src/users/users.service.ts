import DataLoader from "dataloader";
import type { Database } from "../db/prisma.js";
import type { LaggingReads } from "../db/read-replicas.js";
import type { User } from "../generated/prisma/client.js";
import { isUserId } from "./identity.js";

/** What the GraphQL `User` shows (`roles` as stored, without the implied one); never the password hash. */
export type UserRecord = Pick<
  User,
  "id" | "username" | "email" | "emailVerifiedAt" | "createdAt" | "roles" | "lockedAt"
>;

/** The same columns for Prisma's `select`, so no query hands the password hash beyond this service. */
export const publicUserColumns = {
  id: true,
  username: true,
  email: true,
  emailVerifiedAt: true,
  createdAt: true,
  roles: true,
  lockedAt: true,
} as const;

/**
 * Every authenticated request, entity reference and login reads users, so these reads go straight
 * to the pool as named statements, which PostgreSQL parses and plans once per connection: Prisma's
 * per-query work cost several times the query itself. The columns come back named as Prisma's
 * `User` fields (a test compares the two); the instant as epoch milliseconds, much cheaper to turn
 * into a Date than PostgreSQL's text form.
 */
const userColumns = `id, username, email, (EXTRACT(EPOCH FROM email_verified_at) * 1000)::float8 AS "emailVerifiedAt",
  (EXTRACT(EPOCH FROM created_at) * 1000)::float8 AS "createdAt", roles, (EXTRACT(EPOCH FROM locked_at) * 1000)::float8 AS "lockedAt"`;

type UserRow = Omit<UserRecord, "emailVerifiedAt" | "createdAt" | "lockedAt"> & {
  emailVerifiedAt: number | null;
  createdAt: number;
  lockedAt: number | null;
};

export interface LoginAccount {
  user: UserRecord;
  /** Null: the account has no password, and no password signs in to it. */
  passwordHash: string | null;
  credentialsVersion: number;
  mfaEnabled: boolean;
}

function toUserRecord(row: UserRow): UserRecord {
  return {
    ...row,
    emailVerifiedAt: row.emailVerifiedAt === null ? null : new Date(row.emailVerifiedAt),
    createdAt: new Date(row.createdAt),
    lockedAt: row.lockedAt === null ? null : new Date(row.lockedAt),
  };
}

export class UsersService {
  /**
   * The reads of requests served in the same turn of the event loop (whose bytes arrived together)
   * share one query: under load, the `me` of many clients costs one round trip to PostgreSQL, not
   * one each. Nothing is cached: every read is sent after the request that asks for it arrived.
   * A shared query's trace span is a child of the request that started the batch only.
   */
  private readonly concurrentReads = new DataLoader<string, UserRecord | null>(
    (ids) => this.selectByIds(this.database, ids),
    { cache: false, maxBatchSize: 1000, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
  );

  constructor(
    private readonly database: Database,
    private readonly laggingReads: LaggingReads,
  ) {}

  /** In the order of `ids`, null for unknown ones; one query per 1 000 ids, shared with concurrent requests' reads. */
  findByIds(ids: readonly string[]): Promise<(UserRecord | null)[]> {
    return Promise.all(ids.map((id) => this.concurrentReads.load(id)));
  }

  /** The same from a replica when one serves: for views of a user that may lag (`user`, `_entities`). */
  findByIdsMayLag(ids: readonly string[]): Promise<(UserRecord | null)[]> {
    return this.laggingReads.read((database) => this.selectByIds(database, ids));
  }

  /** Any string is a valid key: a batch may hold other requests' keys, and no key may fail theirs. */
  private async selectByIds(database: Database, ids: readonly string[]): Promise<(UserRecord | null)[]> {
    const valid = [...new Set(ids.filter(isUserId).map((id) => id.toLowerCase()))];
    if (valid.length === 0) return ids.map(() => null);
    const { rows } = await database.pool.query<UserRow>({
      name: "users-by-id",
      text: `SELECT ${userColumns} FROM users WHERE id = ANY($1::uuid[])`,
      values: [valid],
    });
    const byId = new Map(rows.map((row) => [row.id, toUserRecord(row)]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  }

  /**
   * The account a login names, by folded e-mail address or username key, with its password hash,
   * the version of the credentials that hash belongs to, and whether a second factor is on.
   */
  async findForLogin(identifier: string): Promise<LoginAccount | null> {
    return this.loginAccountWhere(identifier.includes("@") ? "email" : "username_key", identifier);
  }

  /** The same, for the account a credential other than the password belongs to (a passkey's owner, an identity's account); null for an unknown id. */
  async findForLoginById(id: string): Promise<LoginAccount | null> {
    return isUserId(id) ? this.loginAccountWhere("id", id.toLowerCase()) : null;
  }

  private async loginAccountWhere(
    column: "email" | "username_key" | "id",
    value: string,
  ): Promise<LoginAccount | null> {
    const { rows } = await this.database.pool.query<UserRow & Omit<LoginAccount, "user">>({
      name: `login-${column}`,
      text: `SELECT ${userColumns}, password_hash AS "passwordHash", credentials_version AS "credentialsVersion",
          EXISTS (SELECT 1 FROM totp_factors WHERE user_id = users.id AND enabled_at IS NOT NULL) AS "mfaEnabled"
        FROM users WHERE ${column} = $1`,
      values: [value],
    });
    if (!rows[0]) return null;
    const { passwordHash, credentialsVersion, mfaEnabled, ...user } = rows[0];
    return { user: toUserRecord(user), passwordHash, credentialsVersion, mfaEnabled };
  }
}
