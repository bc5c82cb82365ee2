import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { signUp, signUpAdmin, type SignedUp } from "./helpers/accounts.js";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, type GraphQLResponse } from "../harness/graphql.js";
import { outboxMessagesOf, outboxSettled } from "./helpers/outbox.js";
import { useTestServer } from "./helpers/test-server.js";
import { newWebhookSecret, WebhookReceiver } from "../harness/webhooks.js";

const documents = {
  deliveries: `query($status: String, $first: Int, $after: String) {
    eventDeliveries(status: $status, first: $first, after: $after) {
      edges { cursor node { id eventId type receiver status attempts lastError nextAttemptAt } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  redeliver: `mutation($id: ID!) { redeliverEvent(id: $id) { id eventId type receiver status attempts lastError nextAttemptAt } }`,
};

interface Delivery {
  id: string;
  eventId: string;
  type: string;
  receiver: string;
  status: string;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
}

const ok = (response: GraphQLResponse) => {
  expect(response.errors).toBeUndefined();
  return response.data!;
};

const secret = newWebhookSecret();
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await WebhookReceiver.start(secret);
});
afterAll(() => receiver?.close());
const sendingTo = (settings: Record<string, string>): NodeJS.ProcessEnv =>
  Object.defineProperty({ EVENT_WEBHOOK_SECRET: secret, ...settings }, "EVENT_WEBHOOK_URLS", {
    get: () => receiver.url,
    enumerable: true,
  });

/** A figure of /metrics: the sum over the series that have every one of `labels`. */
async function metric(baseUrl: string, name: string, ...labels: string[]): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const pattern = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, "gm");
  return [...text.matchAll(pattern)]
    .filter((match) => labels.every((label) => (match[1] ?? "").includes(label)))
    .reduce((sum, match) => sum + Number(match[2]), 0);
}

describe("admins", () => {
  const server = useTestServer({
    config: sendingTo({ EVENT_DELIVERY_MAX_AGE: "2s", EVENT_DELIVERY_TIMEOUT: "500ms" }),
  });
  let root: SignedUp;
  beforeAll(async () => {
    root = await signUpAdmin(server(), "opsadmin");
  });
  const asAdmin = (query: string, variables: Record<string, unknown> = {}) =>
    server().request(query, variables, { token: root.accessToken });
  const list = async (variables: Record<string, unknown>) =>
    ok(await asAdmin(documents.deliveries, variables)).eventDeliveries;

  it("list event deliveries newest first, by status, in pages; mail is not among them; others are refused", async () => {
    const users = await Promise.all(Array.from({ length: 3 }, () => signUp(server(), "listed")));
    await outboxSettled(server());
    const all: Delivery[] = [];
    let after: string | null = null;
    do {
      const page: { edges: { node: Delivery }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = await list({
        first: 2,
        after,
      });
      all.push(...page.edges.map((edge) => edge.node));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    const events = (await Promise.all([root, ...users].map((user) => outboxMessagesOf(server(), user.id))))
      .flat()
      .filter((message) => message.type !== "mail");
    expect(all.map((delivery) => delivery.eventId).sort()).toEqual(events.map((message) => message.id).sort());
    expect(all.map((delivery) => Number(delivery.id))).toEqual(
      [...all.map((delivery) => Number(delivery.id))].sort((a, b) => b - a),
    );
    for (const delivery of all) {
      expect(delivery).toMatchObject({
        receiver: receiver.url,
        status: "delivered",
        attempts: 1,
        lastError: null,
        nextAttemptAt: null,
      });
    }
    expect((await list({ status: "delivered", first: 100 })).edges).toHaveLength(all.length);
    expect((await list({ status: "failed" })).edges).toEqual([]);

    const refusal = await asAdmin(documents.deliveries, { status: "lost" });
    expect(errorCodes(refusal)).toEqual(["BAD_USER_INPUT"]);
    expect(refusal.errors![0]!.extensions!.field).toBe("status");
    expect(errorCodes(await asAdmin(documents.deliveries, { after: "bm90IGEgY3Vyc29y" }))).toEqual(["BAD_USER_INPUT"]);
    expect(errorCodes(await server().request(documents.deliveries, {}, { token: users[0]!.accessToken }))).toEqual([
      "FORBIDDEN",
    ]);
    expect(errorCodes(await server().request(documents.deliveries, {}))).toEqual(["UNAUTHENTICATED"]);
    expect(
      errorCodes(await server().request(documents.redeliver, { id: all[0]!.id }, { token: users[0]!.accessToken })),
    ).toEqual(["FORBIDDEN"]);
  });

  it("see a failed delivery with its error, and send it again once the receiver is back: same id, same body", async () => {
    receiver.mode = { status: 500 };
    const user = await signUp(server(), "failing");
    const failed = await (async () => {
      for (;;) {
        const found = (await list({ status: "failed" })).edges
          .map((edge: { node: Delivery }) => edge.node)
          .find((node: Delivery) => node.type === "user.registered");
        if (found) return found as Delivery;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    expect(failed).toMatchObject({ status: "failed", lastError: "HTTP 500", nextAttemptAt: null });
    expect(failed.attempts).toBeGreaterThanOrEqual(2);
    const [attempt] = receiver.received.filter((entry) => entry.headers["webhook-id"] === failed.eventId);

    receiver.mode = { status: 204 };
    const again: Delivery = ok(await asAdmin(documents.redeliver, { id: failed.id })).redeliverEvent;
    expect(again).toMatchObject({
      id: failed.id,
      eventId: failed.eventId,
      status: "pending",
      lastError: "HTTP 500",
      nextAttemptAt: expect.any(String),
    });
    await receiver.waitUntil(() => receiver.eventsOf(user.id).length === 1);
    const [delivered] = receiver.accepted().filter((entry) => entry.headers["webhook-id"] === failed.eventId);
    expect(delivered!.body).toBe(attempt!.body);
    expect(delivered!.verified).toBe(true);
    await outboxSettled(server());

    // A delivered one goes again too (a receiver that lost it): a duplicate with the same id.
    ok(await asAdmin(documents.redeliver, { id: failed.id }));
    await receiver.waitUntil(() => receiver.eventsOf(user.id).length === 2);
    expect(new Set(receiver.eventsOf(user.id).map((event) => event.id))).toEqual(new Set([failed.eventId]));

    for (const id of ["0", "abc", "99999999999", "-1"]) {
      const refused = await asAdmin(documents.redeliver, { id });
      expect(errorCodes(refused), id).toEqual(["BAD_USER_INPUT"]);
      expect(refused.errors![0]!.extensions!.field).toBe("id");
    }
    const mail = await server().database.outboxDelivery.findFirstOrThrow({ where: { receiver: "mail" } });
    expect(errorCodes(await asAdmin(documents.redeliver, { id: mail.id.toString() }))).toEqual(["BAD_USER_INPUT"]);
  });

  it("answer generated status, cursor, page size and id values with a page or BAD_USER_INPUT on the field, never anything else", async () => {
    const anyText = fc.oneof(
      fc.string(),
      fc.constantFrom("pending", "delivered", "failed", "PENDING", " failed", "1", "0", "-1", "9223372036854775808"),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.option(anyText),
        fc.option(fc.oneof(anyText, fc.base64String())),
        fc.option(fc.integer({ min: -5, max: 105 })),
        anyText,
        async (status, after, first, id) => {
          const listed = await asAdmin(documents.deliveries, { status, after, first });
          if (listed.errors) {
            expect(errorCodes(listed)).toEqual(["BAD_USER_INPUT"]);
            expect(["status", "after", "first"]).toContain(listed.errors[0]!.extensions!.field);
          }
          const redelivered = await asAdmin(documents.redeliver, { id });
          if (redelivered.errors) {
            expect(errorCodes(redelivered)).toEqual(["BAD_USER_INPUT"]);
            expect(redelivered.errors[0]!.extensions!.field).toBe("id");
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("show pending deliveries, the oldest one's age and failures per receiver in /metrics", async () => {
    const { baseUrl } = server();
    const failuresBefore = await metric(
      baseUrl,
      "outbox_delivery_attempts_total",
      'outcome="retried"',
      `receiver="${receiver.url}"`,
    );
    receiver.mode = "hang";
    const users = await Promise.all(Array.from({ length: 3 }, () => signUp(server(), "metered")));
    for (const user of users)
      ok(
        await server().request(
          lifecycle.changeUsername,
          { newUsername: `${user.account.username}_m` },
          { token: user.accessToken },
        ),
      );
    await expect
      .poll(() => metric(baseUrl, "outbox_pending_deliveries", `receiver="${receiver.url}"`), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(6);
    await expect
      .poll(() => metric(baseUrl, "outbox_oldest_pending_seconds", `receiver="${receiver.url}"`), { timeout: 10_000 })
      .toBeGreaterThan(0);
    await expect
      .poll(
        () => metric(baseUrl, "outbox_delivery_attempts_total", 'outcome="retried"', `receiver="${receiver.url}"`),
        { timeout: 15_000 },
      )
      .toBeGreaterThan(failuresBefore);
    receiver.mode = { status: 204 };
    await outboxSettled(server());
    expect(await metric(baseUrl, "outbox_pending_deliveries")).toBe(0);
    expect(
      await metric(baseUrl, "outbox_delivery_attempts_total", 'outcome="delivered"', 'receiver="mail"'),
    ).toBeGreaterThan(0);
    // A receiver is named without credentials or query, and mail as "mail".
    expect(await (await fetch(`${baseUrl}/metrics`)).text()).toMatch(
      /^outbox_delivery_attempts_total\{receiver="mail",outcome="delivered"\} \d+$/m,
    );
  });
});

describe("the retention purge", () => {
  const clock = new ManualClock();
  const server = useTestServer({ clock, config: sendingTo({ EVENT_RETENTION: "7d", EVENT_DELIVERY_MAX_AGE: "30d" }) });

  it("deletes messages settled longer ago than EVENT_RETENTION, never a pending one", async () => {
    receiver.mode = { status: 204 };
    const old = await signUp(server(), "old");
    await outboxSettled(server());
    clock.advance(3 * 86400);
    receiver.mode = { status: 500 };
    const pendingUser = await signUp(server(), "pending");
    const deliveryOf = (receiverName: { not: string } | string) =>
      server().database.outboxDelivery.findFirst({
        where: { message: { userId: pendingUser.id }, receiver: receiverName },
      });
    await expect.poll(async () => (await deliveryOf({ not: "mail" }))?.attempts).toBeGreaterThan(0);
    await expect.poll(async () => (await deliveryOf("mail"))?.status).toBe("delivered");
    clock.advance(5 * 86400); // 8 days after the first account's, 5 after the second's

    expect(await server().app.outbox.purge(7 * 86400)).toEqual({ givenUp: 0, purged: 2 });
    expect(await outboxMessagesOf(server(), old.id)).toEqual([]);
    // The second account's mail was delivered 5 days ago (kept); its event is still pending (kept).
    expect((await outboxMessagesOf(server(), pendingUser.id)).map((message) => message.type)).toEqual([
      "mail",
      "user.registered",
    ]);
    receiver.mode = { status: 204 };
  });

  it("gives up deliveries past their time to a receiver no instance delivers to any more", async () => {
    const user = await signUp(server(), "orphan");
    const [event] = (await outboxMessagesOf(server(), user.id)).filter((message) => message.type !== "mail");
    const now = clock.now();
    await server().database
      .$executeRaw`INSERT INTO outbox_deliveries (message_id, receiver, ordering_key, created_at, next_attempt_at, give_up_at)
      VALUES (${event!.id}::uuid, 'https://retired.example/hooks', ${user.id}::uuid, ${now}, ${now}, ${new Date(now.getTime() + 3600_000)})`;
    expect((await server().app.outbox.purge(7 * 86400)).givenUp).toBe(0);
    clock.advance(3601);
    expect((await server().app.outbox.purge(7 * 86400)).givenUp).toBe(1);
    const retired = await server().database.outboxDelivery.findFirstOrThrow({
      where: { receiver: "https://retired.example/hooks" },
    });
    expect(retired).toMatchObject({ status: "failed", lastError: "not delivered in time", finishedAt: clock.now() });
  });
});
