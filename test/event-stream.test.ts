import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { signUp } from "./helpers/accounts.js";
import { testRedisUrl } from "./helpers/environment.js";
import { outboxMessagesOf, outboxSettled } from "./helpers/outbox.js";
import { useTestServer } from "./helpers/test-server.js";

// The same events on a Redis stream, for consumer groups: each entry read once by the group, and
// nothing left pending once acknowledged.
let redis: Redis;
beforeAll(() => {
  redis = new Redis(testRedisUrl);
});
afterAll(() => redis?.quit());

type Entry = [id: string, fields: string[]];
const fieldsOf = ([, fields]: Entry) =>
  Object.fromEntries(
    Array.from({ length: fields.length / 2 }, (_, index) => [fields[2 * index], fields[2 * index + 1]]),
  );

describe("a consumer group", () => {
  const stream = `test:events:${randomBytes(6).toString("hex")}`;
  const server = useTestServer({ store: "redis", config: { REDIS_URL: testRedisUrl, EVENT_STREAM: stream } });
  afterAll(() => redis.del(stream));

  it("reads every event once across its consumers, and XPENDING is empty once they acknowledge", async () => {
    await redis.xgroup("CREATE", stream, "orders", "$", "MKSTREAM");
    const users = await Promise.all(Array.from({ length: 10 }, () => signUp(server(), "stream")));
    for (const [index, user] of users.entries()) {
      for (let step = 0; step < 3; step++) {
        const renamed = await server().request(
          lifecycle.changeUsername,
          { newUsername: `${user.account.username}_${index}_${step}` },
          { token: user.accessToken },
        );
        expect(renamed.errors).toBeUndefined();
      }
    }
    await outboxSettled(server());
    const messages = (await Promise.all(users.map((user) => outboxMessagesOf(server(), user.id))))
      .flat()
      .filter((message) => message.type !== "mail");
    expect(messages).toHaveLength(40);

    // Two consumers of the group, reading in turns until the stream has nothing new for them.
    const read: { consumer: string; fields: Record<string, string> }[] = [];
    for (let idle = 0; idle < 2; ) {
      idle++;
      for (const consumer of ["a", "b"]) {
        const batch = (await redis.xreadgroup("GROUP", "orders", consumer, "COUNT", 7, "STREAMS", stream, ">")) as
          | [string, Entry[]][]
          | null;
        const entries = batch?.[0]?.[1] ?? [];
        if (entries.length > 0) idle = 0;
        for (const entry of entries) read.push({ consumer, fields: fieldsOf(entry) });
        if (entries.length > 0) await redis.xack(stream, "orders", ...entries.map(([id]) => id));
      }
    }
    expect(read.map((entry) => entry.fields.id).sort()).toEqual(messages.map((message) => message.id).sort());
    expect(new Set(read.map((entry) => entry.consumer))).toEqual(new Set(["a", "b"]));
    for (const { fields } of read) {
      const message = messages.find((candidate) => candidate.id === fields.id)!;
      expect(fields).toEqual({
        id: message.id,
        type: message.type,
        userId: JSON.parse(message.body!).userId,
        payload: message.body,
      });
    }
    const [pending] = (await redis.xpending(stream, "orders")) as [number, ...unknown[]];
    expect(pending).toBe(0);
    // An account's entries are in the order of its events.
    for (const user of users) {
      const own = read.filter((entry) => entry.fields.userId === user.id).map((entry) => entry.fields.id);
      expect(own).toEqual(
        (await outboxMessagesOf(server(), user.id))
          .filter((message) => message.type !== "mail")
          .map((message) => message.id),
      );
    }
  });
});

describe("EVENT_STREAM_MAX_LENGTH", () => {
  const stream = `test:events:${randomBytes(6).toString("hex")}`;
  const server = useTestServer({
    store: "redis",
    config: { REDIS_URL: testRedisUrl, EVENT_STREAM: stream, EVENT_STREAM_MAX_LENGTH: "20" },
  });
  afterAll(() => redis.del(stream));

  it("keeps the stream bounded (trimmed approximately, in whole nodes)", async () => {
    const user = await signUp(server(), "trim");
    for (let step = 0; step < 300; step++) {
      await server().request(
        lifecycle.changeUsername,
        { newUsername: `${user.account.username}_${step}` },
        { token: user.accessToken },
      );
    }
    await outboxSettled(server(), 60_000);
    const length = await redis.xlen(stream);
    expect(length).toBeGreaterThanOrEqual(20);
    // 301 entries written; Redis trims whole nodes (100 entries each by default), so at most 20 + 100 stay.
    expect(length).toBeLessThanOrEqual(120);
    // The newest entry is the last rename.
    const [newest] = (await redis.xrevrange(stream, "+", "-", "COUNT", 1)) as Entry[];
    expect(JSON.parse(fieldsOf(newest!).payload!).data.username).toBe(`${user.account.username}_299`);
  });
});
