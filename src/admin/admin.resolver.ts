import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import type { RequestContext } from "../graphql/context.js";
import { pageSize, type Connection } from "../graphql/pagination.js";
import { User } from "../users/user.type.js";
import type { UserRecord } from "../users/users.service.js";
import type { AdminService } from "./admin.service.js";
import { UserConnection } from "./admin.types.js";

/** Account administration: every operation needs the `admin` role (FORBIDDEN otherwise). */
@Resolver()
export class AdminResolver {
  constructor(private readonly admin: AdminService) {}

  @Query(() => UserConnection, {
    description: "Accounts by username; `query` keeps those whose username or e-mail starts with it. Admins only.",
  })
  async users(
    @Arg("first", () => Int, { nullable: true, defaultValue: pageSize.default }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("query", () => String, { nullable: true }) query: string | null,
    @Ctx() context: RequestContext,
  ): Promise<Connection<UserRecord>> {
    await context.requireAdmin();
    return this.admin.listUsers(first, after, query);
  }

  @Mutation(() => User, {
    description: "The account can no longer log in or refresh; its sessions end now. Admins only.",
  })
  async lockUser(
    @Arg("id", () => ID) id: string,
    @Arg("reason", () => String, { nullable: true }) reason: string | null,
    @Ctx() context: RequestContext,
  ): Promise<UserRecord> {
    return this.admin.lock(await context.requireAdmin(), id, reason, context.client);
  }

  @Mutation(() => User, { description: "Admins only." })
  async unlockUser(@Arg("id", () => ID) id: string, @Ctx() context: RequestContext): Promise<UserRecord> {
    return this.admin.unlock(await context.requireAdmin(), id, context.client);
  }

  @Mutation(() => User, {
    description:
      "Replaces the account's roles (`user` is implied). Removing one ends the account's sessions. Admins only.",
  })
  async setUserRoles(
    @Arg("id", () => ID) id: string,
    @Arg("roles", () => [String]) roles: string[],
    @Ctx() context: RequestContext,
  ): Promise<UserRecord> {
    return this.admin.setRoles(await context.requireAdmin(), id, roles, context.client);
  }

  @Mutation(() => Boolean, { description: "Ends every session of the account; false when it had none. Admins only." })
  async revokeUserSessions(@Arg("id", () => ID) id: string, @Ctx() context: RequestContext): Promise<boolean> {
    return this.admin.revokeSessions(await context.requireAdmin(), id, context.client);
  }
}
