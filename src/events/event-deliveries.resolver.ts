import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import type { RequestContext } from "../graphql/context.js";
import { pageSize, type Connection } from "../graphql/pagination.js";
import type { EventDeliveries, EventDeliveryRecord } from "./event-deliveries.js";
import { EventDelivery, EventDeliveryConnection } from "./event-delivery.types.js";

/** The outbox's event deliveries, for admins (FORBIDDEN otherwise). */
@Resolver()
export class EventDeliveriesResolver {
  constructor(private readonly deliveries: EventDeliveries) {}

  @Query(() => EventDeliveryConnection, {
    description:
      "User events on their way to each receiver, newest first; `status`: pending, delivered or failed. Admins only.",
  })
  async eventDeliveries(
    @Arg("status", () => String, { nullable: true }) status: string | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: pageSize.default }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() context: RequestContext,
  ): Promise<Connection<EventDeliveryRecord>> {
    await context.requireAdmin();
    return this.deliveries.list(status, first, after);
  }

  @Mutation(() => EventDelivery, {
    description: "Sends the event to this delivery's receiver again (same id, same body), now. Admins only.",
  })
  async redeliverEvent(@Arg("id", () => ID) id: string, @Ctx() context: RequestContext): Promise<EventDeliveryRecord> {
    await context.requireAdmin();
    return this.deliveries.redeliver(id);
  }
}
