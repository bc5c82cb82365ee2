import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from "type-graphql";
import { ForbiddenError } from "../errors/errors.js";
import type { Context } from "../graphql/context.js";
import { isOwner } from "./owner.js";
import { User } from "./user.type.js";
import type { UserRecord } from "./users.service.js";

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, { nullable: true, description: "The viewer; null and UNAUTHENTICATED without a valid access token." })
  async me(@Ctx() context: Context): Promise<UserRecord | null> {
    const viewer = await context.requireViewer();
    return context.loaders.userById.load(viewer.userId);
  }

  @Query(() => User, { nullable: true, description: "A public profile; null when no user has this id." })
  async user(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<UserRecord | null> {
    return context.loaders.userById.load(id);
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: "Only the account's owner sees it; anyone else gets null and FORBIDDEN.",
  })
  async email(@Root() user: UserRecord, @Ctx() context: Context): Promise<string> {
    if (!(await isOwner(context, user.id))) throw new ForbiddenError("Only the account owner can see this e-mail address.");
    return user.email;
  }

  @FieldResolver(() => Boolean, {
    nullable: true,
    description: "Whether the owner has followed a link mailed to `email`. Only the owner sees it; anyone else gets null and FORBIDDEN.",
  })
  async emailVerified(@Root() user: UserRecord, @Ctx() context: Context): Promise<boolean> {
    if (!(await isOwner(context, user.id))) {
      throw new ForbiddenError("Only the account owner can see whether this e-mail address is verified.");
    }
    return user.emailVerifiedAt !== null;
  }
}
