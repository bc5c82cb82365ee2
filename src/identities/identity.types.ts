import { Field, ID, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../graphql/date-time.scalar.js";

@ObjectType("IdentityProvider", { description: "A provider people can sign in with: one login button." })
export class IdentityProvider {
  @Field(() => ID, { description: "What `startSocialLogin` and `linkIdentity` take as `provider`." })
  id!: string;

  @Field(() => String, { description: "What the button says." })
  name!: string;
}

@ObjectType("SocialLoginStart", {
  description: "Send the browser to `authorizationUrl`; keep `flowId` for `completeSocialLogin`.",
})
export class SocialLoginStart {
  @Field(() => String)
  authorizationUrl!: string;

  @Field(() => ID, { description: "Single use; the sign-in must complete within 10 minutes." })
  flowId!: string;
}

@ObjectType("Identity", { description: "An identity at a provider whose sign-in signs in to the account." })
export class Identity {
  @Field(() => ID, { description: "What `unlinkIdentity` takes." })
  id!: string;

  @Field(() => String, { description: "The provider's id." })
  provider!: string;

  @Field(() => String, { nullable: true, description: "The address the provider gave at the last sign-in." })
  email!: string | null;

  @Field(() => DateTimeScalar)
  linkedAt!: Date;
}
