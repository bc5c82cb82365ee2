import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { BadUserInputError, InvalidRefreshTokenError, RefreshTokenReusedError } from "../errors/errors.js";
import type { Context } from "../graphql/context.js";
import { issued } from "./issued.js";
import type { DeliveredAuth } from "./session-cookie.js";
import { AuthPayload, LoginInput, Session } from "./session.types.js";
import type { SessionInfo } from "./sessions.service.js";

@Resolver()
export class SessionsResolver {
  @Mutation(() => AuthPayload)
  login(@Arg("input", () => LoginInput) input: LoginInput, @Ctx() context: Context): Promise<DeliveredAuth> {
    return issued(context, context.services.sessions.login(input, context.client));
  }

  @Mutation(() => AuthPayload, {
    description: "Rotates: the presented refresh token dies. Without the argument, in cookie mode, the token is the session cookie's.",
  })
  async refreshSession(
    @Arg("refreshToken", () => String, { nullable: true }) refreshToken: string | null | undefined,
    @Ctx() context: Context,
  ): Promise<DeliveredAuth> {
    const { transport } = context;
    const fromCookie = refreshToken == null;
    const presented = refreshToken ?? transport.cookieRefreshToken();
    if (presented === undefined) {
      if (transport.mode === "cookie") {
        // No cookie, or one holding no token of ours: nothing to keep.
        transport.clear();
        throw new InvalidRefreshTokenError();
      }
      throw new BadUserInputError("refreshToken", "Send the refresh token, or X-Session-Transport: cookie with the session cookie.");
    }
    try {
      return await issued(context, context.services.sessions.refresh(presented, context.client));
    } catch (error) {
      // A cookie whose session is over is worth nothing to keep; a reused token ended the session.
      if ((fromCookie && error instanceof InvalidRefreshTokenError) || error instanceof RefreshTokenReusedError) transport.clear();
      throw error;
    }
  }

  @Mutation(() => Boolean, { description: "Ends the session of the presented access token." })
  async logout(@Ctx() context: Context): Promise<boolean> {
    const ended = await context.services.sessions.logout(await context.requireViewer(), context.client);
    context.transport.clear();
    return ended;
  }

  @Mutation(() => Boolean, { description: "Ends every session of the viewer." })
  async logoutAll(@Ctx() context: Context): Promise<boolean> {
    const ended = await context.services.sessions.logoutAll(await context.requireViewer(), context.client);
    context.transport.clear();
    return ended;
  }

  @Mutation(() => Boolean, { description: "Ends one of the viewer's sessions; false when there is no such live session." })
  async revokeSession(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    const viewer = await context.requireViewer();
    const ended = await context.services.sessions.revokeSession(viewer, id, context.client);
    if (ended && id === viewer.sessionId) context.transport.clear();
    return ended;
  }

  @Query(() => [Session], { description: "The viewer's live sessions." })
  async sessions(@Ctx() context: Context): Promise<SessionInfo[]> {
    return context.services.sessions.listSessions(await context.requireViewer());
  }
}
