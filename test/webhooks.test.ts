import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { retryDelayMs } from "../src/events/delivery-worker.js";
import { parseWebhookSecrets, signWebhook } from "../src/events/webhook-signature.js";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { admin, signUp, signUpAdmin, type SignedUp } from "./helpers/accounts.js";
import { ManualClock } from "./helpers/clock.js";
import { mutations, type GraphQLResponse } from "../harness/graphql.js";
import { eventTypesOf, outboxMessagesOf } from "./helpers/outbox.js";
import type { TestServer } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";
import { newWebhookSecret, WebhookReceiver, type ReceivedWebhook } from "../harness/webhooks.js";

const ok = (response: GraphQLResponse) => {
  expect(response.errors).toBeUndefined();
  return response.data!;
};

/** Settings that send events to `receiver()`, read when the server starts. */
function sendingTo(
  receiver: () => WebhookReceiver,
  secret: string,
  settings: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return Object.defineProperty({ EVENT_WEBHOOK_SECRET: secret, ...settings }, "EVENT_WEBHOOK_URLS", {
    get: () => receiver().url,
    enumerable: true,
  });
}

/** The account's events (its mail left out), oldest first. */
const eventMessagesOf = async (server: TestServer, userId: string) =>
  (await outboxMessagesOf(server, userId)).filter((message) => message.type !== "mail");

const rename = (server: TestServer, user: SignedUp, username: string) =>
  server.request(lifecycle.changeUsername, { newUsername: username }, { token: user.accessToken });

describe("signed deliveries", () => {
  const secret = newWebhookSecret();
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start(secret);
  });
  afterAll(() => receiver?.close());
  const server = useTestServer({ config: sendingTo(() => receiver, secret) });

  it("carries the Standard Webhooks headers, verified by the standardwebhooks package, once per event in the normal case", async () => {
    const users = await Promise.all(Array.from({ length: 5 }, () => signUp(server(), "signed")));
    for (const [index, user] of users.entries()) ok(await rename(server(), user, `${user.account.username}_${index}`));
    const expected = (await Promise.all(users.map((user) => eventMessagesOf(server(), user.id)))).flat();
    await receiver.waitUntil(() => receiver.accepted().length >= expected.length);

    expect(receiver.received.every((entry) => entry.verified)).toBe(true);
    expect(
      receiver
        .accepted()
        .map((entry) => entry.headers["webhook-id"])
        .sort(),
    ).toEqual(expected.map((message) => message.id).sort());
    for (const entry of receiver.accepted()) {
      const message = expected.find((candidate) => candidate.id === entry.headers["webhook-id"])!;
      expect(entry.body).toBe(message.body);
      expect(entry.headers["content-type"]).toBe("application/json");
      expect(entry.headers["webhook-timestamp"]).toMatch(/^\d{10}$/);
      expect(entry.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
      expect(entry.event.id).toBe(entry.headers["webhook-id"]);
    }
  });

  it("fails the check for a tampered body, another id, an old timestamp or another secret", async () => {
    const user = await signUp(server(), "tamper");
    await receiver.waitUntil(() => receiver.eventsOf(user.id).length === 1);
    const delivery = receiver.accepted().find((entry) => entry.event.userId === user.id)!;
    const { headers, body } = delivery;
    expect(receiver.verifies(body, headers)).toBe(true);

    const tampered = [
      body.replace(
        user.id,
        user.id.replace(/.$/, (last) => (last === "0" ? "1" : "0")),
      ),
      body.replace('"user.registered"', '"user.deleted"'),
      `${body} `,
    ];
    for (const changed of tampered) expect(receiver.verifies(changed, headers)).toBe(false);
    expect(receiver.verifies(body, { ...headers, "webhook-id": crypto.randomUUID() })).toBe(false);
    // The signature of another moment: refused as it stands, and refused when signed anew that long ago.
    const old = Math.floor(Date.now() / 1000) - 10 * 60;
    expect(receiver.verifies(body, { ...headers, "webhook-timestamp": String(old) })).toBe(false);
    const keys = parseWebhookSecrets(secret)!;
    const signedLongAgo = signWebhook(keys, headers["webhook-id"]!, old, body);
    expect(
      receiver.verifies(body, { ...headers, "webhook-timestamp": String(old), "webhook-signature": signedLongAgo }),
    ).toBe(false);
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
  });

  it("fails the check for any change to the body, the id or the timestamp (generated)", async () => {
    const user = await signUp(server(), "fuzzed");
    await receiver.waitUntil(() => receiver.eventsOf(user.id).length === 1);
    const { headers, body } = receiver.accepted().find((entry) => entry.event.userId === user.id)!;
    let trials = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("body", "webhook-id", "webhook-timestamp"),
        fc.nat(),
        fc.integer({ min: 1, max: 0x10ffff }),
        async (part, position, codePoint) => {
          const original = part === "body" ? body : headers[part]!;
          const at = position % (original.length + 1);
          const changed = original.slice(0, at) + String.fromCodePoint(codePoint) + original.slice(at + (position % 2));
          fc.pre(changed !== original);
          // The package reads the timestamp with parseInt: trailing characters leave it the same number.
          fc.pre(part !== "webhook-timestamp" || Number.parseInt(changed, 10) !== Number.parseInt(original, 10));
          const verifies =
            part === "body"
              ? receiver.verifies(changed, headers)
              : receiver.verifies(body, { ...headers, [part]: changed });
          expect(verifies).toBe(false);
          trials++;
        },
      ),
      { numRuns: 500 },
    );
    expect(trials).toBeGreaterThan(300);
  });

  it("signs with every key of EVENT_WEBHOOK_SECRET, so receivers can change secrets without a gap", () => {
    const [oldSecret, newSecret] = [newWebhookSecret(), newWebhookSecret()];
    const keys = parseWebhookSecrets(`${newSecret}, ${oldSecret}`)!;
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signWebhook(keys, "msg_1", timestamp, "{}"),
    };
    for (const candidate of [oldSecret, newSecret]) expect(new Webhook(candidate).verify("{}", headers)).toEqual({});
    for (const malformed of [
      "whsec_",
      "secret",
      "whsec_c2hvcnQ=",
      `whsec_${Buffer.alloc(65).toString("base64")}`,
      `${newSecret},nope`,
    ]) {
      expect(parseWebhookSecrets(malformed), malformed).toBeNull();
    }
  });

  it("keeps each account's events in order while accounts are delivered side by side", async () => {
    receiver.delayMs = 5;
    const users = await Promise.all(Array.from({ length: 12 }, () => signUp(server(), "order")));
    await Promise.all(
      users.map(async (user) => {
        for (let step = 0; step < 8; step++) ok(await rename(server(), user, `${user.account.username}_${step}`));
      }),
    );
    await receiver.waitUntil(() => users.every((user) => receiver.eventsOf(user.id).length === 9));
    receiver.delayMs = 0;
    for (const user of users) {
      const delivered = receiver.eventsOf(user.id);
      expect(delivered.map((event) => event.type)).toEqual(await eventTypesOf(server(), user.id));
      expect(delivered.slice(1).map((event) => event.data.username)).toEqual(
        Array.from({ length: 8 }, (_, step) => `${user.account.username}_${step}`),
      );
    }
  });
});

describe("a receiver that is down for a while, then back", () => {
  const secret = newWebhookSecret();
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start(secret);
    receiver.mode = { status: 500 };
  });
  afterAll(() => receiver?.close());
  const clock = new ManualClock();
  const retry = { retryDelayMs: 60_000, maxRetryDelayMs: 3_600_000 };
  const server = useTestServer({
    clock,
    config: sendingTo(() => receiver, secret, { EVENT_DELIVERY_MAX_AGE: "3d" }),
    deliveryTuning: retry,
  });

  const deliveryOf = async (messageId: string) =>
    server().database.outboxDelivery.findFirstOrThrow({ where: { messageId } });

  it("is retried with growing delays (a fake clock), gets the account's events in order once back, and nothing of them before", async () => {
    const user = await signUp(server(), "down");
    const [registered] = await eventMessagesOf(server(), user.id);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      // Attempted, and its failure recorded.
      await expect.poll(async () => (await deliveryOf(registered!.id)).attempts, { timeout: 10_000 }).toBe(attempt);
      await expect.poll(async () => (await deliveryOf(registered!.id)).claimId, { timeout: 10_000 }).toBeNull();
      const { nextAttemptAt, lastError, status } = await deliveryOf(registered!.id);
      expect({ lastError, status }).toEqual({ lastError: "HTTP 500", status: "pending" });
      delays.push(nextAttemptAt.getTime() - clock.now().getTime());
      if (attempt === 3) {
        // Later actions of the account wait behind the failing one.
        for (let step = 0; step < 3; step++) ok(await rename(server(), user, `${user.account.username}_${step}`));
      }
      clock.advance(delays.at(-1)! / 1000);
    }
    for (const [index, delay] of delays.entries()) {
      const ceiling = retry.retryDelayMs * 2 ** index;
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
      if (index > 0) expect(delay).toBeGreaterThanOrEqual(delays[index - 1]!);
    }
    const attemptsSeen = receiver.received.filter((entry) => entry.event.userId === user.id);
    expect(new Set(attemptsSeen.map((entry) => entry.headers["webhook-id"]))).toEqual(new Set([registered!.id]));
    expect(attemptsSeen.every((entry) => entry.verified)).toBe(true);

    receiver.mode = { status: 204 };
    await expect.poll(async () => (await deliveryOf(registered!.id)).status, { timeout: 10_000 }).toBe("delivered");
    await receiver.waitUntil(() => receiver.eventsOf(user.id).length === 4);
    expect(receiver.eventsOf(user.id).map((event) => [event.type, event.data.username])).toEqual([
      ["user.registered", user.account.username],
      ["user.username_changed", `${user.account.username}_0`],
      ["user.username_changed", `${user.account.username}_1`],
      ["user.username_changed", `${user.account.username}_2`],
    ]);
  });

  it("marks a delivery failed once EVENT_DELIVERY_MAX_AGE has passed, and the account's next event goes out", async () => {
    receiver.mode = { status: 503 };
    const user = await signUp(server(), "expired");
    const [registered] = await eventMessagesOf(server(), user.id);
    await expect
      .poll(async () => (await deliveryOf(registered!.id)).attempts, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(1);
    // Two days later the account changes; its event waits behind the failing one.
    clock.advance(2 * 86400);
    ok(
      await server()
        .request(mutations.login, {
          input: { usernameOrEmail: user.account.username, password: user.account.password },
        })
        .then((response) => {
          user.accessToken = response.data!.login.accessToken;
          return response;
        }),
    );
    ok(await rename(server(), user, `${user.account.username}_late`));
    // Each attempt fails; the clock runs on past the first event's three days.
    for (let hours = 0; hours < 80 && (await deliveryOf(registered!.id)).status === "pending"; hours++) {
      clock.advance(3600);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await deliveryOf(registered!.id)).toMatchObject({
      status: "failed",
      lastError: "HTTP 503",
      finishedAt: expect.any(Date),
    });
    receiver.mode = { status: 204 };
    clock.advance(3600); // past the next attempt of the account's later event, if it was tried meanwhile
    await receiver.waitUntil(() => receiver.eventsOf(user.id).length === 1);
    expect(receiver.eventsOf(user.id)[0]!.data.username).toBe(`${user.account.username}_late`);
  });
});

describe("a receiver that answers 500 or never answers", () => {
  const secret = newWebhookSecret();
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start(secret);
  });
  afterAll(() => receiver?.close());
  const server = useTestServer({ config: sendingTo(() => receiver, secret, { EVENT_DELIVERY_TIMEOUT: "300ms" }) });
  let root: SignedUp;
  beforeAll(async () => {
    root = await signUpAdmin(server(), "hangadmin");
  });

  for (const mode of [{ status: 500 }, "hang"] as const) {
    it(`(${typeof mode === "string" ? mode : mode.status}) gets bounded attempts, while every request is answered as usual`, async () => {
      receiver.mode = mode;
      const users = await Promise.all(Array.from({ length: 10 }, () => signUp(server(), "busy")));
      const before = receiver.received.length;
      // Actions and reads go on meanwhile: answered, every one.
      const answers = await Promise.all([
        ...users.map((user) => rename(server(), user, `${user.account.username}_x`)),
        ...users.map((user) => server().request(mutations.me, {}, { token: user.accessToken })),
        ...users.map((user) => server().request(admin.lockUser, { id: user.id }, { token: root.accessToken })),
      ]);
      for (const answer of answers) expect(answer.errors).toBeUndefined();
      expect((await fetch(`${server().baseUrl}/health/live`)).status).toBe(200);
      await receiver.waitUntil(() => receiver.received.length - before >= 20);
      const attempts = await server().database.outboxDelivery.findMany({
        where: { message: { userId: { in: users.map((user) => user.id) }, type: { not: "mail" } } },
      });
      // Only the head of each account's queue is attempted; the rest wait, untried.
      expect(attempts.filter((delivery) => delivery.attempts > 0).length).toBeLessThanOrEqual(users.length);
      const tried = attempts.filter((delivery) => delivery.attempts > 0 && delivery.claimId === null);
      expect(tried.length).toBeGreaterThan(0);
      for (const delivery of tried) {
        expect(delivery.status).toBe("pending");
        expect(delivery.lastError).toBe(mode === "hang" ? "no answer in time" : "HTTP 500");
      }
      receiver.mode = { status: 204 };
      await receiver.waitUntil(() => users.every((user) => receiver.eventsOf(user.id).length === 3), 30_000);
      const hung = receiver.received.filter((entry: ReceivedWebhook) => entry.answered === "hung");
      if (mode === "hang") expect(hung.length).toBeGreaterThan(0);
    });
  }
});

describe("the retry delay", () => {
  it("doubles from the first delay up to the ceiling, each between half and all of it", () => {
    const tuning = { retryDelayMs: 1_000, maxRetryDelayMs: 60_000 };
    const ceilings = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000];
    for (const [index, ceiling] of ceilings.entries()) {
      expect(retryDelayMs(index + 1, tuning, () => 0)).toBe(ceiling / 2);
      expect(retryDelayMs(index + 1, tuning, () => 1)).toBe(ceiling);
    }
    expect(retryDelayMs(10_000, tuning, () => 1)).toBe(60_000);
  });
});
