import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import type { Context } from "../graphql/context.js";
import { User } from "../users/user.type.js";
import type { UserRecord } from "../users/users.service.js";

@Resolver()
export class AccountLifecycleResolver {
  @Mutation(() => Boolean, { description: "Mails a new verification link to the viewer's address (rate-limited)." })
  async requestEmailVerification(@Ctx() context: Context): Promise<boolean> {
    return context.services.verification.requestEmailVerification(await context.requireViewer(), context.client);
  }

  @Mutation(() => Boolean, {
    description: "Follows a link to the app's /verify-email page: verifies the address, or applies an e-mail change. INVALID_TOKEN when unknown, used, expired or superseded.",
  })
  async verifyEmail(@Arg("token", () => String) token: string, @Ctx() context: Context): Promise<boolean> {
    return context.services.verification.verifyEmail(token, await context.viewer(), context.client);
  }

  @Mutation(() => Boolean, {
    description: "Mails a reset link to the address if an account has it. Always true, whether or not one does.",
  })
  requestPasswordReset(@Arg("email", () => String) email: string, @Ctx() context: Context): Promise<boolean> {
    return context.services.passwordReset.requestPasswordReset(email, context.client, context.afterResponse);
  }

  @Mutation(() => Boolean, {
    description: "Follows a link to the app's /reset-password page: sets the new password and ends every session of the account.",
  })
  async resetPassword(
    @Arg("token", () => String) token: string,
    @Arg("newPassword", () => String) newPassword: string,
    @Ctx() context: Context,
  ): Promise<boolean> {
    return context.services.passwordReset.resetPassword(token, newPassword, await context.viewer(), context.client);
  }

  @Mutation(() => User)
  async changeUsername(@Arg("newUsername", () => String) newUsername: string, @Ctx() context: Context): Promise<UserRecord> {
    return context.services.profile.changeUsername(await context.requireViewer(), newUsername);
  }

  @Mutation(() => Boolean, {
    description: "Mails a confirmation link to the new address and a notice to the current one; the address changes when the link is followed.",
  })
  async changeEmail(
    @Arg("newEmail", () => String) newEmail: string,
    @Arg("currentPassword", () => String) currentPassword: string,
    @Ctx() context: Context,
  ): Promise<boolean> {
    return context.services.profile.changeEmail(await context.requireViewer(), newEmail, currentPassword, context.client);
  }

  @Mutation(() => Boolean, { description: "Deletes the account and everything that names it; every session ends." })
  async deleteAccount(@Arg("currentPassword", () => String) currentPassword: string, @Ctx() context: Context): Promise<boolean> {
    const deleted = await context.services.profile.deleteAccount(await context.requireViewer(), currentPassword, context.client);
    context.transport.clear();
    return deleted;
  }
}
