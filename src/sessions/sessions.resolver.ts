import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import type { RequestContext } from "../graphql/context.js";
import { type DeliveredAuth, deliverSession, refreshDelivered } from "./session-delivery.js";
import { AuthPayload, LoginInput, Session } from "./session.types.js";
import type { SessionInfo, SessionsService } from "./sessions.service.js";

@Resolver()
export class SessionsResolver {
  constructor(private readonly sessionsService: SessionsService) {}

  @Mutation(() => AuthPayload)
  login(@Arg("input", () => LoginInput) input: LoginInput, @Ctx() context: RequestContext): Promise<DeliveredAuth> {
    return deliverSession(context, this.sessionsService.login(input, context.client));
  }

  @Mutation(() => AuthPayload, {
    description:
      "Rotates: the presented refresh token dies. Without the argument, in cookie mode, the token is the session cookie's.",
  })
  refreshSession(
    @Arg("refreshToken", () => String, { nullable: true }) refreshToken: string | null | undefined,
    @Ctx() context: RequestContext,
  ): Promise<DeliveredAuth> {
    return refreshDelivered(context, refreshToken, (presented) =>
      this.sessionsService.refresh(presented, context.client),
    );
  }

  @Mutation(() => Boolean, { description: "Ends the session of the presented access token." })
  async logout(@Ctx() context: RequestContext): Promise<boolean> {
    const ended = await this.sessionsService.logout(await context.requireViewer(), context.client);
    context.transport.clear();
    return ended;
  }

  @Mutation(() => Boolean, { description: "Ends every session of the viewer." })
  async logoutAll(@Ctx() context: RequestContext): Promise<boolean> {
    const ended = await this.sessionsService.logoutAll(await context.requireViewer(), context.client);
    context.transport.clear();
    return ended;
  }

  @Mutation(() => Boolean, {
    description: "Ends one of the viewer's sessions; false when there is no such live session.",
  })
  async revokeSession(@Arg("id", () => ID) id: string, @Ctx() context: RequestContext): Promise<boolean> {
    const viewer = await context.requireViewer();
    const ended = await this.sessionsService.revokeSession(viewer, id, context.client);
    if (ended && id === viewer.sessionId) context.transport.clear();
    return ended;
  }

  @Query(() => [Session], { description: "The viewer's live sessions." })
  async sessions(@Ctx() context: RequestContext): Promise<SessionInfo[]> {
    return this.sessionsService.listSessions(await context.requireViewer());
  }
}
