import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import type { RequestContext } from "../graphql/context.js";
import type { AuthResult } from "../sessions/session-lifecycle.js";
import { AuthPayload } from "../sessions/session.types.js";
import { markTokenOwner } from "../users/token-owner.js";
import { RegisterInput } from "./account.types.js";
import type { AccountsService } from "./accounts.service.js";

@Resolver()
export class AccountsResolver {
  constructor(private readonly accounts: AccountsService) {}

  @Mutation(() => AuthPayload)
  register(
    @Arg("input", () => RegisterInput) input: RegisterInput,
    @Ctx() context: RequestContext,
  ): Promise<AuthResult> {
    return markTokenOwner(context, this.accounts.register(input, context.client));
  }

  @Mutation(() => AuthPayload, { description: "Every session ends; the returned tokens start a new one." })
  async changePassword(
    @Arg("currentPassword", () => String) currentPassword: string,
    @Arg("newPassword", () => String) newPassword: string,
    @Ctx() context: RequestContext,
  ): Promise<AuthResult> {
    const viewer = await context.requireViewer();
    return markTokenOwner(context, this.accounts.changePassword(viewer, currentPassword, newPassword, context.client));
  }
}
