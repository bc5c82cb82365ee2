import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import type { RequestContext } from "../graphql/context.js";
import { User } from "../users/user.type.js";
import type { UserRecord } from "../users/users.service.js";
import type { PasswordResetService } from "./password-reset.service.js";
import type { ProfileService } from "./profile.service.js";
import type { VerificationService } from "./verification.service.js";

@Resolver()
export class AccountLifecycleResolver {
  constructor(
    private readonly verification: VerificationService,
    private readonly passwordReset: PasswordResetService,
    private readonly profile: ProfileService,
  ) {}

  @Mutation(() => Boolean, { description: "Mails a new verification link to the viewer's address (rate-limited)." })
  async requestEmailVerification(@Ctx() context: RequestContext): Promise<boolean> {
    return this.verification.requestEmailVerification(await context.requireViewer(), context.client);
  }

  @Mutation(() => Boolean, {
    description:
      "Follows a link to the app's /verify-email page: verifies the address, or applies an e-mail change. INVALID_TOKEN when unknown, used, expired or superseded.",
  })
  async verifyEmail(@Arg("token", () => String) token: string, @Ctx() context: RequestContext): Promise<boolean> {
    return this.verification.verifyEmail(token, await context.viewer(), context.client);
  }

  @Mutation(() => Boolean, {
    description: "Mails a reset link to the address if an account has it. Always true, whether or not one does.",
  })
  requestPasswordReset(@Arg("email", () => String) email: string, @Ctx() context: RequestContext): Promise<boolean> {
    return this.passwordReset.requestPasswordReset(email, context.client, context.afterResponse);
  }

  @Mutation(() => Boolean, {
    description:
      "Follows a link to the app's /reset-password page: sets the new password and ends every session of the account.",
  })
  async resetPassword(
    @Arg("token", () => String) token: string,
    @Arg("newPassword", () => String) newPassword: string,
    @Ctx() context: RequestContext,
  ): Promise<boolean> {
    return this.passwordReset.resetPassword(token, newPassword, await context.viewer(), context.client);
  }

  @Mutation(() => User)
  async changeUsername(
    @Arg("newUsername", () => String) newUsername: string,
    @Ctx() context: RequestContext,
  ): Promise<UserRecord> {
    return this.profile.changeUsername(await context.requireViewer(), newUsername);
  }

  @Mutation(() => Boolean, {
    description:
      "Mails a confirmation link to the new address and a notice to the current one; the address changes when the link is followed.",
  })
  async changeEmail(
    @Arg("newEmail", () => String) newEmail: string,
    @Arg("currentPassword", () => String) currentPassword: string,
    @Ctx() context: RequestContext,
  ): Promise<boolean> {
    return this.profile.changeEmail(await context.requireViewer(), newEmail, currentPassword, context.client);
  }

  @Mutation(() => Boolean, { description: "Deletes the account and everything that names it; every session ends." })
  async deleteAccount(
    @Arg("currentPassword", () => String) currentPassword: string,
    @Ctx() context: RequestContext,
  ): Promise<boolean> {
    const deleted = await this.profile.deleteAccount(await context.requireViewer(), currentPassword, context.client);
    context.transport.clear();
    return deleted;
  }
}
