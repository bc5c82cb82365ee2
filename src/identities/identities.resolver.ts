import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { ForbiddenError } from "../errors/errors.js";
import type { Context } from "../graphql/context.js";
import { issued } from "../sessions/issued.js";
import type { AuthResult } from "../sessions/session-lifecycle.js";
import { AuthPayload } from "../sessions/session.types.js";
import { isOwner } from "../users/owner.js";
import { User } from "../users/user.type.js";
import type { UserRecord } from "../users/users.service.js";
import { Identity, IdentityProvider, SocialLoginStart } from "./identity.types.js";
import type { IdentityRecord } from "./identity-store.js";
import type { ProviderSummary } from "./provider-registry.js";
import type { StartedSignIn } from "./social-sign-in.service.js";

async function assertOwner(user: UserRecord, context: Context): Promise<void> {
  if (!(await isOwner(context, user.id))) throw new ForbiddenError("Only the account owner can see this.");
}

@Resolver(() => User)
export class IdentitiesResolver {
  @Query(() => [IdentityProvider], { description: "The providers one can sign in with now, for login buttons." })
  identityProviders(@Ctx() context: Context): ProviderSummary[] {
    return context.services.identityProviders.available();
  }

  @Mutation(() => SocialLoginStart, {
    description: "Starts a sign-in with a provider, coming back to `redirectUri` (one of REDIRECT_URIS exactly).",
  })
  startSocialLogin(
    @Arg("provider", () => ID) provider: string,
    @Arg("redirectUri", () => String) redirectUri: string,
    @Ctx() context: Context,
  ): Promise<StartedSignIn> {
    return context.services.socialSignIn.start(provider, redirectUri, { kind: "login" });
  }

  @Mutation(() => AuthPayload, {
    description: "The app's callback page: the flow id and the URL the provider redirected to. Links instead when the flow came from `linkIdentity`.",
  })
  completeSocialLogin(
    @Arg("flowId", () => ID) flowId: string,
    @Arg("callbackUrl", () => String) callbackUrl: string,
    @Ctx() context: Context,
  ): Promise<AuthResult> {
    return issued(context, context.services.socialSignIn.complete(flowId, callbackUrl, context.client, context.requireViewer));
  }

  @Mutation(() => SocialLoginStart, { description: "Starts a sign-in with a provider whose completion links its identity to the viewer." })
  async linkIdentity(
    @Arg("provider", () => ID) provider: string,
    @Arg("redirectUri", () => String) redirectUri: string,
    @Ctx() context: Context,
  ): Promise<StartedSignIn> {
    const viewer = await context.requireViewer();
    return context.services.socialSignIn.start(provider, redirectUri, { kind: "link", userId: viewer.userId });
  }

  @Mutation(() => Boolean, { description: "Unlinks one of the viewer's identities; false when there is no such identity of theirs." })
  async unlinkIdentity(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    return context.services.identityLinks.unlink(await context.requireViewer(), id, context.client);
  }

  @FieldResolver(() => [Identity], {
    nullable: true,
    description: "The identities whose sign-in signs in to the account. Only the owner sees them; anyone else gets null and FORBIDDEN.",
  })
  async identities(@Root() user: UserRecord, @Ctx() context: Context): Promise<IdentityRecord[]> {
    await assertOwner(user, context);
    return context.services.identityLinks.list(user.id);
  }

  @FieldResolver(() => Boolean, {
    nullable: true,
    description: "Whether a password signs in to the account (one made by a provider has none until set through a reset link). Only the owner sees it.",
  })
  async hasPassword(@Root() user: UserRecord, @Ctx() context: Context): Promise<boolean> {
    await assertOwner(user, context);
    return context.services.identityLinks.hasPassword(user.id);
  }
}
