import { Field, ObjectType } from "type-graphql";

@ObjectType("TotpEnrollment", {
  description: "A new authenticator secret; `confirmTotp` with its first code turns it on.",
})
export class TotpEnrollment {
  @Field(() => String, { description: "Base32, for typing into an authenticator app." })
  secret!: string;

  @Field(() => String, { description: "The `otpauth://totp/…` URI of the secret." })
  otpauthUrl!: string;

  @Field(() => String, { description: "The URI as a QR code: a `data:image/png;base64,…` URL." })
  qrCodeDataUrl!: string;
}
