import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import type { RequestContext } from "../graphql/context.js";
import { type DeliveredAuth, deliverSession } from "../sessions/session-delivery.js";
import { AuthPayload } from "../sessions/session.types.js";
import { forbiddenField, isOwner } from "../users/owner.js";
import { User } from "../users/user.type.js";
import type { UserRecord } from "../users/users.service.js";
import type { MfaLogin } from "./mfa-login.js";
import type { MfaService } from "./mfa.service.js";
import { TotpEnrollment } from "./mfa.types.js";
import type { TotpEnrollmentDetails } from "./totp.js";

@Resolver(() => User)
export class MfaResolver {
  constructor(
    private readonly mfa: MfaService,
    private readonly mfaLogin: MfaLogin,
  ) {}

  @FieldResolver(() => Boolean, {
    nullable: true,
    description:
      "Whether logins need a second factor. Only the account's owner sees it; anyone else gets null and FORBIDDEN.",
  })
  async totpEnabled(@Root() user: UserRecord, @Ctx() context: RequestContext): Promise<boolean | null> {
    if (!(await isOwner(context, user.id))) return forbiddenField(context, "Only the account owner can see this.");
    return this.mfa.isEnabled(user.id);
  }

  @Mutation(() => TotpEnrollment, { description: "A new authenticator secret; nothing changes until `confirmTotp`." })
  async enrollTotp(
    @Arg("currentPassword", () => String) currentPassword: string,
    @Ctx() context: RequestContext,
  ): Promise<TotpEnrollmentDetails> {
    return this.mfa.enrollTotp(await context.requireViewer(), currentPassword, context.client);
  }

  @Mutation(() => [String], {
    description:
      "Turns the second factor on with a code of the enrolled authenticator; ends the other sessions. Returns 10 single-use recovery codes, shown this once.",
  })
  async confirmTotp(@Arg("code", () => String) code: string, @Ctx() context: RequestContext): Promise<string[]> {
    return this.mfa.confirmTotp(await context.requireViewer(), code, context.client);
  }

  @Mutation(() => [String], {
    description: "10 new recovery codes for a current code; the previous ones stop working.",
  })
  async regenerateRecoveryCodes(
    @Arg("code", () => String) code: string,
    @Ctx() context: RequestContext,
  ): Promise<string[]> {
    return this.mfa.regenerateRecoveryCodes(await context.requireViewer(), code);
  }

  @Mutation(() => Boolean, {
    description: "Turns the second factor off (password and a current code); ends the other sessions.",
  })
  async disableTotp(
    @Arg("currentPassword", () => String) currentPassword: string,
    @Arg("code", () => String) code: string,
    @Ctx() context: RequestContext,
  ): Promise<boolean> {
    return this.mfa.disableTotp(await context.requireViewer(), currentPassword, code, context.client);
  }

  @Mutation(() => AuthPayload, {
    description:
      "The second step of a login that answered MFA_REQUIRED: its `mfaToken` and an authenticator or recovery code.",
  })
  completeLogin(
    @Arg("mfaToken", () => String) mfaToken: string,
    @Arg("code", () => String) code: string,
    @Ctx() context: RequestContext,
  ): Promise<DeliveredAuth> {
    return deliverSession(context, this.mfaLogin.complete(mfaToken, code, context.client));
  }
}
