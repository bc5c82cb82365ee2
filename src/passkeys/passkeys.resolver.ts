import { GraphQLJSONObject } from "graphql-scalars";
import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import type { RequestContext } from "../graphql/context.js";
import { type DeliveredAuth, deliverSession } from "../sessions/session-delivery.js";
import { AuthPayload } from "../sessions/session.types.js";
import { forbiddenField, isOwner } from "../users/owner.js";
import { User } from "../users/user.type.js";
import type { UserRecord } from "../users/users.service.js";
import type { PasskeyManagement } from "./passkey-management.service.js";
import type { IssuedChallenge, PasskeyRegistration } from "./passkey-registration.service.js";
import type { PasskeySignIn } from "./passkey-sign-in.service.js";
import type { PasskeyRecord } from "./passkey-store.js";
import { Passkey, PasskeyChallenge } from "./passkey.types.js";

@Resolver(() => User)
export class PasskeysResolver {
  constructor(
    private readonly registration: PasskeyRegistration,
    private readonly signIn: PasskeySignIn,
    private readonly management: PasskeyManagement,
  ) {}

  @FieldResolver(() => [Passkey], {
    nullable: true,
    description:
      "The account's passkeys, oldest first. Only the account's owner sees them; anyone else gets null and FORBIDDEN.",
  })
  async passkeys(@Root() user: UserRecord, @Ctx() context: RequestContext): Promise<PasskeyRecord[] | null> {
    if (!(await isOwner(context, user.id)))
      return forbiddenField(context, "Only the account owner can see its passkeys.");
    return this.management.list(user.id);
  }

  @Mutation(() => PasskeyChallenge, {
    description:
      "Options for `startRegistration`. Needs a sign-in of the last REAUTHENTICATION_WINDOW, or the current password.",
  })
  async beginPasskeyRegistration(
    @Arg("currentPassword", () => String, { nullable: true }) currentPassword: string | null,
    @Ctx() context: RequestContext,
  ): Promise<IssuedChallenge<object>> {
    return this.registration.begin(await context.requireViewer(), currentPassword, context.client);
  }

  @Mutation(() => Passkey, {
    description: "Verifies `startRegistration`'s answer and adds the passkey; mails the owner.",
  })
  async finishPasskeyRegistration(
    @Arg("challengeId", () => ID) challengeId: string,
    @Arg("response", () => GraphQLJSONObject) response: Record<string, unknown>,
    @Arg("name", () => String, { nullable: true }) name: string | null,
    @Ctx() context: RequestContext,
  ): Promise<PasskeyRecord> {
    return this.registration.finish(await context.requireViewer(), challengeId, response, name, context.client);
  }

  @Mutation(() => PasskeyChallenge, {
    description:
      "Options for `startAuthentication`: with a username or e-mail, that account's passkeys; with the mfaToken of MFA_REQUIRED, to complete that login; with neither, any discoverable passkey (autofill).",
  })
  beginPasskeyLogin(
    @Arg("usernameOrEmail", () => String, { nullable: true }) usernameOrEmail: string | null,
    @Arg("mfaToken", () => String, { nullable: true }) mfaToken: string | null,
    @Ctx() context: RequestContext,
  ): Promise<IssuedChallenge<object>> {
    return this.signIn.begin({ usernameOrEmail, mfaToken }, context.client);
  }

  @Mutation(() => AuthPayload, {
    description:
      "Verifies `startAuthentication`'s answer: a new session, as `login` gives (or MFA_REQUIRED, as `login` answers).",
  })
  finishPasskeyLogin(
    @Arg("challengeId", () => ID) challengeId: string,
    @Arg("response", () => GraphQLJSONObject) response: Record<string, unknown>,
    @Ctx() context: RequestContext,
  ): Promise<DeliveredAuth> {
    return deliverSession(context, this.signIn.finish(challengeId, response, context.client));
  }

  @Mutation(() => Passkey, { description: "Renames one of the viewer's passkeys (1–64 characters)." })
  async renamePasskey(
    @Arg("id", () => ID) id: string,
    @Arg("name", () => String) name: string,
    @Ctx() context: RequestContext,
  ): Promise<PasskeyRecord> {
    return this.management.rename(await context.requireViewer(), id, name);
  }

  @Mutation(() => Boolean, {
    description:
      "Removes one of the viewer's passkeys and mails the owner; false when there is no such passkey of theirs. LAST_SIGN_IN_METHOD when it is the account's last way to sign in.",
  })
  async removePasskey(@Arg("id", () => ID) id: string, @Ctx() context: RequestContext): Promise<boolean> {
    return this.management.remove(await context.requireViewer(), id, context.client);
  }
}
