import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../graphql/date-time.scalar.js";

@ObjectType("PasskeyChallenge", {
  description:
    "A WebAuthn ceremony under way: pass `options` to the browser, then send its answer back with `challengeId` (single use, until `expiresAt`).",
})
export class PasskeyChallenge {
  @Field(() => ID)
  challengeId!: string;

  @Field(() => GraphQLJSONObject, {
    description:
      "The WebAuthn options JSON, for `@simplewebauthn/browser`'s `startRegistration` / `startAuthentication` (`optionsJSON`).",
  })
  options!: Record<string, unknown>;

  @Field(() => DateTimeScalar)
  expiresAt!: Date;
}

@ObjectType("Passkey", { description: "A passkey (WebAuthn credential) that signs in to the account." })
export class Passkey {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: "When it last signed in; null: never." })
  lastUsedAt!: Date | null;

  @Field(() => Boolean, { description: "Whether the authenticator said it is backed up (synced to other devices)." })
  backedUp!: boolean;

  @Field(() => String, { description: "`singleDevice`, or `multiDevice` (it may be synced)." })
  deviceType!: string;

  @Field(() => [String], { description: "How browsers may reach its authenticator: `internal`, `hybrid`, `usb`…" })
  transports!: string[];
}
