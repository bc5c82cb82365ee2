import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import type { Context } from "../graphql/context.js";
import { issued } from "./issued.js";
import type { AuthResult } from "./session-lifecycle.js";
import { AuthPayload, LoginInput, Session } from "./session.types.js";
import type { SessionInfo } from "./sessions.service.js";

@Resolver()
export class SessionsResolver {
  @Mutation(() => AuthPayload)
  login(@Arg("input", () => LoginInput) input: LoginInput, @Ctx() context: Context): Promise<AuthResult> {
    return issued(context, context.services.sessions.login(input, context.client));
  }

  @Mutation(() => AuthPayload, { description: "Rotates: the presented refresh token dies." })
  refreshSession(@Arg("refreshToken", () => String) refreshToken: string, @Ctx() context: Context): Promise<AuthResult> {
    return issued(context, context.services.sessions.refresh(refreshToken, context.client));
  }

  @Mutation(() => Boolean, { description: "Ends the session of the presented access token." })
  async logout(@Ctx() context: Context): Promise<boolean> {
    return context.services.sessions.logout(await context.requireViewer(), context.client);
  }

  @Mutation(() => Boolean, { description: "Ends every session of the viewer." })
  async logoutAll(@Ctx() context: Context): Promise<boolean> {
    return context.services.sessions.logoutAll(await context.requireViewer(), context.client);
  }

  @Mutation(() => Boolean, { description: "Ends one of the viewer's sessions; false when there is no such live session." })
  async revokeSession(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    return context.services.sessions.revokeSession(await context.requireViewer(), id, context.client);
  }

  @Query(() => [Session], { description: "The viewer's live sessions." })
  async sessions(@Ctx() context: Context): Promise<SessionInfo[]> {
    return context.services.sessions.listSessions(await context.requireViewer());
  }
}
