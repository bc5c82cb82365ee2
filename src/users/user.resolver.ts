import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from "type-graphql";
import { effectiveRoles } from "../auth/roles.js";
import type { RequestContext } from "../graphql/context.js";
import { DateTimeScalar } from "../graphql/date-time.scalar.js";
import { forbiddenField, isOwner, isOwnerOrAdmin } from "./owner.js";
import type { UserLoaders } from "./user.loader.js";
import { User } from "./user.type.js";
import type { UserRecord } from "./users.service.js";

const privateField = "Only the account owner and admins can see this field.";

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, {
    nullable: true,
    description: "The viewer; null and UNAUTHENTICATED without a valid access token.",
  })
  async me(@Ctx() context: RequestContext<UserLoaders>): Promise<UserRecord | null> {
    const viewer = await context.requireViewer();
    return context.loaders.userById.load(viewer.userId);
  }

  @Query(() => User, { nullable: true, description: "A public profile; null when no user has this id." })
  async user(@Arg("id", () => ID) id: string, @Ctx() context: RequestContext<UserLoaders>): Promise<UserRecord | null> {
    return context.loaders.userById.load(id);
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: "Only the account's owner and admins see it; anyone else gets null and FORBIDDEN.",
  })
  async email(@Root() user: UserRecord, @Ctx() context: RequestContext): Promise<string | null> {
    if (!(await isOwnerOrAdmin(context, user.id))) return forbiddenField(context, privateField);
    return user.email;
  }

  @FieldResolver(() => Boolean, {
    nullable: true,
    description:
      "Whether the owner has followed a link mailed to `email`. Only the owner sees it; anyone else gets null and FORBIDDEN.",
  })
  async emailVerified(@Root() user: UserRecord, @Ctx() context: RequestContext): Promise<boolean | null> {
    if (!(await isOwner(context, user.id)))
      return forbiddenField(context, "Only the account owner can see whether this e-mail address is verified.");
    return user.emailVerifiedAt !== null;
  }

  @FieldResolver(() => [String], {
    nullable: true,
    description:
      "`user`, then every other role (`admin`…). Only the account's owner and admins see it; anyone else gets null and FORBIDDEN.",
  })
  async roles(@Root() user: UserRecord, @Ctx() context: RequestContext): Promise<string[] | null> {
    if (!(await isOwnerOrAdmin(context, user.id))) return forbiddenField(context, privateField);
    return effectiveRoles(user.roles);
  }

  @FieldResolver(() => DateTimeScalar, {
    nullable: true,
    description:
      "When an admin locked the account; null when it is not locked. Only the account's owner and admins see it.",
  })
  async lockedAt(@Root() user: UserRecord, @Ctx() context: RequestContext): Promise<Date | null> {
    if (!(await isOwnerOrAdmin(context, user.id))) return forbiddenField(context, privateField);
    return user.lockedAt;
  }
}
