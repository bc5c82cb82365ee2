import { GraphQLJSONObject } from "graphql-scalars";
import { Arg, Ctx, ID, Mutation, Resolver } from "type-graphql";
import type { Context } from "../graphql/context.js";
import { issued } from "../sessions/issued.js";
import type { AuthResult } from "../sessions/session-lifecycle.js";
import { AuthPayload } from "../sessions/session.types.js";
import type { IssuedChallenge } from "./passkey-registration.service.js";
import type { PasskeyRecord } from "./passkey-store.js";
import { Passkey, PasskeyChallenge } from "./passkey.types.js";

@Resolver()
export class PasskeysResolver {
  @Mutation(() => PasskeyChallenge, {
    description: "Options for `startRegistration`. Needs a sign-in of the last REAUTHENTICATION_WINDOW, or the current password.",
  })
  async beginPasskeyRegistration(
    @Arg("currentPassword", () => String, { nullable: true }) currentPassword: string | null,
    @Ctx() context: Context,
  ): Promise<IssuedChallenge<object>> {
    return context.services.passkeys.registration.begin(await context.requireViewer(), currentPassword, context.client);
  }

  @Mutation(() => Passkey, { description: "Verifies `startRegistration`'s answer and adds the passkey; mails the owner." })
  async finishPasskeyRegistration(
    @Arg("challengeId", () => ID) challengeId: string,
    @Arg("response", () => GraphQLJSONObject) response: Record<string, unknown>,
    @Arg("name", () => String, { nullable: true }) name: string | null,
    @Ctx() context: Context,
  ): Promise<PasskeyRecord> {
    return context.services.passkeys.registration.finish(await context.requireViewer(), challengeId, response, name, context.client);
  }

  @Mutation(() => PasskeyChallenge, {
    description:
      "Options for `startAuthentication`: with a username or e-mail, that account's passkeys; with the mfaToken of MFA_REQUIRED, to complete that login; with neither, any discoverable passkey (autofill).",
  })
  beginPasskeyLogin(
    @Arg("usernameOrEmail", () => String, { nullable: true }) usernameOrEmail: string | null,
    @Arg("mfaToken", () => String, { nullable: true }) mfaToken: string | null,
    @Ctx() context: Context,
  ): Promise<IssuedChallenge<object>> {
    return context.services.passkeys.signIn.begin({ usernameOrEmail, mfaToken });
  }

  @Mutation(() => AuthPayload, {
    description: "Verifies `startAuthentication`'s answer: a new session, as `login` gives (or MFA_REQUIRED, as `login` answers).",
  })
  finishPasskeyLogin(
    @Arg("challengeId", () => ID) challengeId: string,
    @Arg("response", () => GraphQLJSONObject) response: Record<string, unknown>,
    @Ctx() context: Context,
  ): Promise<AuthResult> {
    return issued(context, context.services.passkeys.signIn.finish(challengeId, response, context.client));
  }
}
