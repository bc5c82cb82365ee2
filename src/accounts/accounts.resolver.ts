import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import type { Context } from "../graphql/context.js";
import { issued } from "../sessions/issued.js";
import type { DeliveredAuth } from "../sessions/session-cookie.js";
import { AuthPayload } from "../sessions/session.types.js";
import { RegisterInput } from "./account.types.js";

@Resolver()
export class AccountsResolver {
  @Mutation(() => AuthPayload)
  register(@Arg("input", () => RegisterInput) input: RegisterInput, @Ctx() context: Context): Promise<DeliveredAuth> {
    return issued(context, context.services.accounts.register(input, context.client));
  }

  @Mutation(() => AuthPayload, { description: "Every session ends; the returned tokens start a new one." })
  async changePassword(
    @Arg("currentPassword", () => String) currentPassword: string,
    @Arg("newPassword", () => String) newPassword: string,
    @Ctx() context: Context,
  ): Promise<DeliveredAuth> {
    const viewer = await context.requireViewer();
    return issued(context, context.services.accounts.changePassword(viewer, currentPassword, newPassword, context.client));
  }
}
