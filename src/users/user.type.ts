import { Directive, Field, ID, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../graphql/date-time.scalar.js";

@Directive('@key(fields: "id")')
@ObjectType("User", { description: "An account. Other subgraphs reference it by `id`." })
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  username!: string;

  // `email` and `emailVerified` are resolved by UserResolver: only the owner may read them.

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}
