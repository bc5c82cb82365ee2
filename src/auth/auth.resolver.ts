import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import type { Context } from "../graphql/context.js";
import type { AuthResult, SessionInfo } from "./auth.service.js";

/** The payload's user holds the tokens it carries, so they are its owner for the rest of the request. */
async function issued(context: Context, result: Promise<AuthResult>): Promise<AuthResult> {
  const payload = await result;
  context.tokensIssuedTo.add(payload.user.id);
  return payload;
}
import { AuthPayload, LoginInput, RegisterInput, Session } from "./auth.types.js";

@Resolver()
export class AuthResolver {
  @Mutation(() => AuthPayload)
  register(@Arg("input", () => RegisterInput) input: RegisterInput, @Ctx() context: Context): Promise<AuthResult> {
    return issued(context, context.services.auth.register(input, context.client));
  }

  @Mutation(() => AuthPayload)
  login(@Arg("input", () => LoginInput) input: LoginInput, @Ctx() context: Context): Promise<AuthResult> {
    return issued(context, context.services.auth.login(input, context.client));
  }

  @Mutation(() => AuthPayload, { description: "Rotates: the presented refresh token dies." })
  refreshSession(@Arg("refreshToken", () => String) refreshToken: string, @Ctx() context: Context): Promise<AuthResult> {
    return issued(context, context.services.auth.refresh(refreshToken, context.client));
  }

  @Mutation(() => Boolean, { description: "Ends the session of the presented access token." })
  async logout(@Ctx() context: Context): Promise<boolean> {
    return context.services.auth.logout(await context.requireViewer());
  }

  @Mutation(() => Boolean, { description: "Ends every session of the viewer." })
  async logoutAll(@Ctx() context: Context): Promise<boolean> {
    return context.services.auth.logoutAll(await context.requireViewer());
  }

  @Mutation(() => Boolean, { description: "Ends one of the viewer's sessions; false when there is no such live session." })
  async revokeSession(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    return context.services.auth.revokeSession(await context.requireViewer(), id);
  }

  @Mutation(() => AuthPayload, { description: "Every session ends; the returned tokens start a new one." })
  async changePassword(
    @Arg("currentPassword", () => String) currentPassword: string,
    @Arg("newPassword", () => String) newPassword: string,
    @Ctx() context: Context,
  ): Promise<AuthResult> {
    const viewer = await context.requireViewer();
    return issued(context, context.services.auth.changePassword(viewer, currentPassword, newPassword, context.client));
  }

  @Query(() => [Session], { description: "The viewer's live sessions." })
  async sessions(@Ctx() context: Context): Promise<SessionInfo[]> {
    return context.services.auth.listSessions(await context.requireViewer());
  }
}
