import { Arg, Ctx, ID, Int, Query, Resolver } from "type-graphql";
import type { RequestContext } from "../graphql/context.js";
import { pageSize, type Connection } from "../graphql/pagination.js";
import { parseUserId } from "../users/identity.js";
import { SecurityEventConnection } from "./security-event.types.js";
import type { SecurityEventRecord, SecurityEvents } from "./security-events.js";

@Resolver()
export class SecurityEventsResolver {
  constructor(private readonly audit: SecurityEvents) {}

  @Query(() => SecurityEventConnection, {
    description: "The viewer's own security events (recent activity), newest first.",
  })
  async securityEvents(
    @Arg("first", () => Int, { nullable: true, defaultValue: pageSize.default }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() context: RequestContext,
  ): Promise<Connection<SecurityEventRecord>> {
    const viewer = await context.requireViewer();
    return this.audit.forUser(viewer.userId, first, after);
  }

  @Query(() => SecurityEventConnection, { description: "Any account's security events, newest first. Admins only." })
  async userSecurityEvents(
    @Arg("userId", () => ID) userId: string,
    @Arg("first", () => Int, { nullable: true, defaultValue: pageSize.default }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() context: RequestContext,
  ): Promise<Connection<SecurityEventRecord>> {
    await context.requireAdmin();
    return this.audit.forUser(parseUserId(userId, "userId"), first, after);
  }
}
