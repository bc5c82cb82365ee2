import { Field, ObjectType } from "type-graphql";
import { PageInfo } from "../graphql/page-info.type.js";
import { User } from "../users/user.type.js";

@ObjectType("UserEdge")
export class UserEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => User)
  node!: User;
}

@ObjectType("UserConnection", { description: "Accounts ordered by username." })
export class UserConnection {
  @Field(() => [UserEdge])
  edges!: UserEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
