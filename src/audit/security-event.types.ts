import { Field, ID, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../graphql/date-time.scalar.js";
import { PageInfo } from "../graphql/page-info.type.js";

@ObjectType("SecurityEvent", { description: "One entry of an account's security audit log." })
export class SecurityEvent {
  @Field(() => ID)
  id!: string;

  @Field(() => String, {
    description: "registered, login_succeeded, login_failed, session_ended, roles_changed, locked, …",
  })
  kind!: string;

  @Field(() => DateTimeScalar)
  at!: Date;

  @Field(() => ID, {
    nullable: true,
    description: "The account that acted (the user, an admin); null when none was signed in.",
  })
  actorId!: string | null;

  @Field(() => String, { nullable: true, description: "The client's address." })
  ip!: string | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;
}

@ObjectType("SecurityEventEdge")
export class SecurityEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => SecurityEvent)
  node!: SecurityEvent;
}

@ObjectType("SecurityEventConnection", { description: "Newest first." })
export class SecurityEventConnection {
  @Field(() => [SecurityEventEdge])
  edges!: SecurityEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
