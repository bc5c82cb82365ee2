import { Field, ID, InputType, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../graphql/date-time.scalar.js";
import { User } from "../users/user.type.js";

@ObjectType("AuthPayload", { description: "A session's tokens: send the access token as `Authorization: Bearer …`." })
export class AuthPayload {
  @Field(() => String)
  accessToken!: string;

  @Field(() => DateTimeScalar)
  accessTokenExpiresAt!: Date;

  @Field(() => String, {
    nullable: true,
    description:
      "Single use: `refreshSession` returns the next one. Null in cookie mode (`X-Session-Transport: cookie`): the token is in the HttpOnly cookie.",
  })
  refreshToken!: string | null;

  @Field(() => DateTimeScalar)
  refreshTokenExpiresAt!: Date;

  @Field(() => User)
  user!: User;
}

@ObjectType("Session", { description: "A signed-in device or client of the viewer." })
export class Session {
  @Field(() => ID)
  id!: string;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { description: "When the session last obtained tokens." })
  lastUsedAt!: Date;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => Boolean, { description: "Whether this is the session of the presented access token." })
  current!: boolean;
}

@InputType("LoginInput")
export class LoginInput {
  @Field(() => String)
  usernameOrEmail!: string;

  @Field(() => String)
  password!: string;
}
