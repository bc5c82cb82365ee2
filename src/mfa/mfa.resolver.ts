import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import type { Context } from "../graphql/context.js";
import { issued } from "../sessions/issued.js";
import type { DeliveredAuth } from "../sessions/session-cookie.js";
import { AuthPayload } from "../sessions/session.types.js";
import { forbiddenField, isOwner } from "../users/owner.js";
import { User } from "../users/user.type.js";
import type { UserRecord } from "../users/users.service.js";
import { TotpEnrollment } from "./mfa.types.js";
import type { TotpEnrollmentDetails } from "./totp.js";

@Resolver(() => User)
export class MfaResolver {
  @FieldResolver(() => Boolean, {
    nullable: true,
    description: "Whether logins need a second factor. Only the account's owner sees it; anyone else gets null and FORBIDDEN.",
  })
  async totpEnabled(@Root() user: UserRecord, @Ctx() context: Context): Promise<boolean | null> {
    if (!(await isOwner(context, user.id))) return forbiddenField(context, "Only the account owner can see this.");
    return context.services.mfa.isEnabled(user.id);
  }

  @Mutation(() => TotpEnrollment, { description: "A new authenticator secret; nothing changes until `confirmTotp`." })
  async enrollTotp(@Arg("currentPassword", () => String) currentPassword: string, @Ctx() context: Context): Promise<TotpEnrollmentDetails> {
    return context.services.mfa.enrollTotp(await context.requireViewer(), currentPassword, context.client);
  }

  @Mutation(() => [String], {
    description: "Turns the second factor on with a code of the enrolled authenticator; ends the other sessions. Returns 10 single-use recovery codes, shown this once.",
  })
  async confirmTotp(@Arg("code", () => String) code: string, @Ctx() context: Context): Promise<string[]> {
    return context.services.mfa.confirmTotp(await context.requireViewer(), code, context.client);
  }

  @Mutation(() => [String], { description: "10 new recovery codes for a current code; the previous ones stop working." })
  async regenerateRecoveryCodes(@Arg("code", () => String) code: string, @Ctx() context: Context): Promise<string[]> {
    return context.services.mfa.regenerateRecoveryCodes(await context.requireViewer(), code);
  }

  @Mutation(() => Boolean, { description: "Turns the second factor off (password and a current code); ends the other sessions." })
  async disableTotp(
    @Arg("currentPassword", () => String) currentPassword: string,
    @Arg("code", () => String) code: string,
    @Ctx() context: Context,
  ): Promise<boolean> {
    return context.services.mfa.disableTotp(await context.requireViewer(), currentPassword, code, context.client);
  }

  @Mutation(() => AuthPayload, {
    description: "The second step of a login that answered MFA_REQUIRED: its `mfaToken` and an authenticator or recovery code.",
  })
  completeLogin(
    @Arg("mfaToken", () => String) mfaToken: string,
    @Arg("code", () => String) code: string,
    @Ctx() context: Context,
  ): Promise<DeliveredAuth> {
    return issued(context, context.services.mfaLogin.complete(mfaToken, code, context.client));
  }
}
