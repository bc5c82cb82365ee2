import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import type { RequestContext } from "../graphql/context.js";
import { type DeliveredAuth, deliverSession } from "../sessions/session-delivery.js";
import { AuthPayload } from "../sessions/session.types.js";
import { RegisterInput } from "./account.types.js";
import type { AccountsService } from "./accounts.service.js";

@Resolver()
export class AccountsResolver {
  constructor(private readonly accounts: AccountsService) {}

  @Mutation(() => AuthPayload)
  register(
    @Arg("input", () => RegisterInput) input: RegisterInput,
    @Ctx() context: RequestContext,
  ): Promise<DeliveredAuth> {
    return deliverSession(context, this.accounts.register(input, context.client));
  }

  @Mutation(() => AuthPayload, { description: "Every session ends; the returned tokens start a new one." })
  async changePassword(
    @Arg("currentPassword", () => String) currentPassword: string,
    @Arg("newPassword", () => String) newPassword: string,
    @Ctx() context: RequestContext,
  ): Promise<DeliveredAuth> {
    const viewer = await context.requireViewer();
    return deliverSession(context, this.accounts.changePassword(viewer, currentPassword, newPassword, context.client));
  }
}
