import { Field, InputType } from "type-graphql";

@InputType("RegisterInput")
export class RegisterInput {
  @Field(() => String)
  email!: string;

  @Field(() => String)
  username!: string;

  @Field(() => String, { description: "8 to 128 characters, not a commonly used password." })
  password!: string;
}
