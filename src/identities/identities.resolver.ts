import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import type { RequestContext } from "../graphql/context.js";
import { type DeliveredAuth, deliverSession } from "../sessions/session-delivery.js";
import { AuthPayload } from "../sessions/session.types.js";
import { forbiddenField, isOwner } from "../users/owner.js";
import { User } from "../users/user.type.js";
import type { UserRecord } from "../users/users.service.js";
import type { IdentityLinks } from "./identity-links.service.js";
import type { IdentityRecord } from "./identity-store.js";
import { Identity, IdentityProvider, SocialLoginStart } from "./identity.types.js";
import type { ProviderRegistry, ProviderSummary } from "./provider-registry.js";
import type { SocialSignIn, StartedSignIn } from "./social-sign-in.service.js";

@Resolver(() => User)
export class IdentitiesResolver {
  constructor(
    private readonly providers: Pick<ProviderRegistry, "available">,
    private readonly socialSignIn: SocialSignIn,
    private readonly links: IdentityLinks,
  ) {}

  @Query(() => [IdentityProvider], { description: "The providers one can sign in with now, for login buttons." })
  identityProviders(): ProviderSummary[] {
    return this.providers.available();
  }

  @Mutation(() => SocialLoginStart, {
    description: "Starts a sign-in with a provider, coming back to `redirectUri` (one of REDIRECT_URIS exactly).",
  })
  startSocialLogin(
    @Arg("provider", () => ID) provider: string,
    @Arg("redirectUri", () => String) redirectUri: string,
    @Ctx() context: RequestContext,
  ): Promise<StartedSignIn> {
    return this.socialSignIn.start(provider, redirectUri, { kind: "login" }, context.client);
  }

  @Mutation(() => AuthPayload, {
    description:
      "The app's callback page: the flow id and the URL the provider redirected to. Links instead when the flow came from `linkIdentity`.",
  })
  completeSocialLogin(
    @Arg("flowId", () => ID) flowId: string,
    @Arg("callbackUrl", () => String) callbackUrl: string,
    @Ctx() context: RequestContext,
  ): Promise<DeliveredAuth> {
    const completed = this.socialSignIn.complete(flowId, callbackUrl, context.client, context.requireViewer);
    return deliverSession(context, completed);
  }

  @Mutation(() => SocialLoginStart, {
    description: "Starts a sign-in with a provider whose completion links its identity to the viewer.",
  })
  async linkIdentity(
    @Arg("provider", () => ID) provider: string,
    @Arg("redirectUri", () => String) redirectUri: string,
    @Ctx() context: RequestContext,
  ): Promise<StartedSignIn> {
    const viewer = await context.requireViewer();
    return this.socialSignIn.start(provider, redirectUri, { kind: "link", userId: viewer.userId }, context.client);
  }

  @Mutation(() => Boolean, {
    description: "Unlinks one of the viewer's identities; false when there is no such identity of theirs.",
  })
  async unlinkIdentity(@Arg("id", () => ID) id: string, @Ctx() context: RequestContext): Promise<boolean> {
    return this.links.unlink(await context.requireViewer(), id, context.client);
  }

  @FieldResolver(() => [Identity], {
    nullable: true,
    description:
      "The identities whose sign-in signs in to the account. Only the owner sees them; anyone else gets null and FORBIDDEN.",
  })
  async identities(@Root() user: UserRecord, @Ctx() context: RequestContext): Promise<IdentityRecord[] | null> {
    if (!(await isOwner(context, user.id))) return forbiddenField(context, "Only the account owner can see this.");
    return this.links.list(user.id);
  }

  @FieldResolver(() => Boolean, {
    nullable: true,
    description:
      "Whether a password signs in to the account (one made by a provider has none until set through a reset link). Only the owner sees it.",
  })
  async hasPassword(@Root() user: UserRecord, @Ctx() context: RequestContext): Promise<boolean | null> {
    if (!(await isOwner(context, user.id))) return forbiddenField(context, "Only the account owner can see this.");
    return this.links.hasPassword(user.id);
  }
}
