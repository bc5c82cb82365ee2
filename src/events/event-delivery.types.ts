import { Field, ID, Int, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../graphql/date-time.scalar.js";
import { PageInfo } from "../graphql/page-info.type.js";

@ObjectType("EventDelivery", {
  description: "One user event on its way to one receiver (a webhook URL, the Redis stream).",
})
export class EventDelivery {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { description: "The event's id: `webhook-id` of its webhook requests, `id` of its stream entry." })
  eventId!: string;

  @Field(() => String, { description: "user.registered, user.deleted, …" })
  type!: string;

  @Field(() => String, { description: "The webhook URL (without credentials or query), or stream:<EVENT_STREAM>." })
  receiver!: string;

  @Field(() => String, { description: "pending, delivered or failed (given up)." })
  status!: string;

  @Field(() => Int)
  attempts!: number;

  @Field(() => String, {
    nullable: true,
    description: "Why the last attempt failed: an HTTP status, a timeout, an error code.",
  })
  lastError!: string | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: "When a pending delivery is attempted next; null once it is settled.",
  })
  nextAttemptAt!: Date | null;
}

@ObjectType("EventDeliveryEdge")
export class EventDeliveryEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => EventDelivery)
  node!: EventDelivery;
}

@ObjectType("EventDeliveryConnection", { description: "Newest first." })
export class EventDeliveryConnection {
  @Field(() => [EventDeliveryEdge])
  edges!: EventDeliveryEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
