import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import type { RequestContext } from "../graphql/context.js";
import { markTokenOwner } from "../users/token-owner.js";
import type { AuthResult } from "./session-lifecycle.js";
import { AuthPayload, LoginInput, Session } from "./session.types.js";
import type { SessionInfo, SessionsService } from "./sessions.service.js";

@Resolver()
export class SessionsResolver {
  constructor(private readonly sessionsService: SessionsService) {}

  @Mutation(() => AuthPayload)
  login(@Arg("input", () => LoginInput) input: LoginInput, @Ctx() context: RequestContext): Promise<AuthResult> {
    return markTokenOwner(context, this.sessionsService.login(input, context.client));
  }

  @Mutation(() => AuthPayload, { description: "Rotates: the presented refresh token dies." })
  refreshSession(
    @Arg("refreshToken", () => String) refreshToken: string,
    @Ctx() context: RequestContext,
  ): Promise<AuthResult> {
    return markTokenOwner(context, this.sessionsService.refresh(refreshToken, context.client));
  }

  @Mutation(() => Boolean, { description: "Ends the session of the presented access token." })
  async logout(@Ctx() context: RequestContext): Promise<boolean> {
    return this.sessionsService.logout(await context.requireViewer(), context.client);
  }

  @Mutation(() => Boolean, { description: "Ends every session of the viewer." })
  async logoutAll(@Ctx() context: RequestContext): Promise<boolean> {
    return this.sessionsService.logoutAll(await context.requireViewer(), context.client);
  }

  @Mutation(() => Boolean, {
    description: "Ends one of the viewer's sessions; false when there is no such live session.",
  })
  async revokeSession(@Arg("id", () => ID) id: string, @Ctx() context: RequestContext): Promise<boolean> {
    return this.sessionsService.revokeSession(await context.requireViewer(), id, context.client);
  }

  @Query(() => [Session], { description: "The viewer's live sessions." })
  async sessions(@Ctx() context: RequestContext): Promise<SessionInfo[]> {
    return this.sessionsService.listSessions(await context.requireViewer());
  }
}
