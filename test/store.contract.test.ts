import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CounterStore } from "../src/store/counter-store.js";
import { MemoryStore } from "../src/store/memory-store.js";
import type { RedisStore } from "../src/store/redis-store.js";
import type { RevocationEntry, RevocationStore } from "../src/store/revocation-store.js";
import type { SingleUseStore } from "../src/store/single-use-store.js";
import type { Store } from "../src/store/store.js";
import { ManualClock } from "./helpers/clock.js";
import { openTestStore } from "./helpers/server.js";

/** Reads a key's remaining lifetime the way each store keeps it; -2 when the key is gone. */
type TtlReader = (kind: "session" | "hits" | "once", id: string) => Promise<number>;

interface Subject {
  store: Store;
  ttl: TtlReader;
  /** Lets every key expire: the clock moves for the in-process store; Redis is told to expire them. */
  expireAll(): Promise<void>;
  /**
   * What losing its data means for each: a new process for the in-process store; for Redis, every
   * key gone, as FLUSHALL does (only this store's own keys: the server is shared).
   */
  loseData(): Promise<void>;
}

async function memorySubject(): Promise<Subject> {
  const clock = new ManualClock();
  const subject: Subject = {
    store: new MemoryStore(clock),
    ttl: (kind, id) => (subject.store as MemoryStore).ttl(kind, id),
    expireAll: async () => clock.advance(365 * 86400),
    loseData: async () => {
      await subject.store.close();
      subject.store = new MemoryStore(clock);
    },
  };
  return subject;
}

async function redisSubject(): Promise<Subject> {
  const store = (await openTestStore("redis")) as RedisStore;
  return {
    store,
    ttl: (kind, id) => store.redis.ttl(store.key(kind, id)),
    loseData: async () => {
      const keys = await store.redis.keys(`${store.key("session", "").replace(/session:$/, "")}*`);
      if (keys.length > 0) await store.redis.del(...keys);
    },
    expireAll: async () => {
      const keys = await store.redis.keys(`${store.key("session", "")}*`);
      const hits = await store.redis.keys(`${store.key("hits", "")}*`);
      const kept = await store.redis.keys(`${store.key("once", "")}*`);
      // PEXPIRE 1 then wait for Redis itself to expire them: its own expiry, not a DEL.
      for (const key of [...keys, ...hits, ...kept]) await store.redis.pexpire(key, 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}

const stores = [
  ["in-process", memorySubject],
  ["Redis", redisSubject],
] as const;

describe.each(stores)("the %s store as the revocation store", (_name, open) => {
  let subject: Subject;
  const revocations = (): RevocationStore => subject.store;
  const rebuild = async (entries: RevocationEntry[] = []) =>
    revocations().completeRebuild(await revocations().beginRebuild(), entries);
  beforeAll(async () => {
    subject = await open();
  });
  afterAll(() => subject.store.close());

  it("knows nothing until rebuilt, then holds what the rebuild loaded", async () => {
    const [loaded, revokedBefore, other] = [randomUUID(), randomUUID(), randomUUID()];
    await revocations().revokeSessions([revokedBefore], 900);
    for (const id of [loaded, revokedBefore, other]) expect(await revocations().sessionRevocation(id)).toBe("unknown");
    expect(await rebuild([{ sessionId: loaded, ttlSeconds: 300 }])).toBe(true);
    expect(await revocations().sessionRevocation(loaded)).toBe("revoked");
    expect(await revocations().sessionRevocation(revokedBefore)).toBe("revoked");
    expect(await revocations().sessionRevocation(other)).toBe("live");
    const ttl = await subject.ttl("session", loaded);
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
  });

  it("completes only the latest rebuild", async () => {
    const first = await revocations().beginRebuild();
    const second = await revocations().beginRebuild();
    expect(await revocations().completeRebuild(first, [])).toBe(false);
    expect(await revocations().completeRebuild(second, [])).toBe(true);
  });

  it("knows nothing again once it lost its data, until rebuilt", async () => {
    const revoked = randomUUID();
    await rebuild();
    await revocations().revokeSessions([revoked], 900);
    const pending = await revocations().beginRebuild();
    await subject.loseData();
    expect(await revocations().sessionRevocation(revoked)).toBe("unknown");
    expect(await revocations().sessionRevocation(randomUUID())).toBe("unknown");
    // A rebuild begun before the loss does not mark the new, empty store current.
    expect(await revocations().completeRebuild(pending, [])).toBe(false);
    expect(await revocations().sessionRevocation(revoked)).toBe("unknown");
    expect(await rebuild([{ sessionId: revoked, ttlSeconds: 60 }])).toBe(true);
    expect(await revocations().sessionRevocation(revoked)).toBe("revoked");
  });

  it("remembers revoked sessions and nothing else", async () => {
    await rebuild();
    const [revoked, other] = [randomUUID(), randomUUID()];
    expect(await revocations().sessionRevocation(revoked)).toBe("live");
    await revocations().revokeSessions([revoked], 900);
    expect(await revocations().sessionRevocation(revoked)).toBe("revoked");
    expect(await revocations().sessionRevocation(other)).toBe("live");
  });

  it("revokes many sessions at once, and none for an empty list", async () => {
    await rebuild();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    await revocations().revokeSessions(ids, 60);
    await revocations().revokeSessions([], 60);
    for (const id of ids) expect(await revocations().sessionRevocation(id)).toBe("revoked");
  });

  it("keeps a revocation only as long as asked: keys carry the TTL they were given", async () => {
    const id = randomUUID();
    await revocations().revokeSessions([id], 600);
    const ttl = await subject.ttl("session", id);
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
    expect(await subject.ttl("session", randomUUID())).toBe(-2);
  });

  it("forgets a revocation once its TTL has passed", async () => {
    await rebuild();
    const id = randomUUID();
    await revocations().revokeSessions([id], 5);
    await subject.expireAll();
    expect(await revocations().sessionRevocation(id)).toBe("live");
    expect(await subject.ttl("session", id)).toBe(-2);
  });
});

describe.each(stores)("the %s store as the counter store", (_name, open) => {
  let subject: Subject;
  const counters = (): CounterStore => subject.store;
  beforeAll(async () => {
    subject = await open();
  });
  afterAll(() => subject.store.close());

  it("counts hits in a fixed window that later hits do not extend", async () => {
    const key = `login:${randomUUID()}`;
    const first = await counters().hit(key, 900);
    const second = await counters().hit(key, 900);
    expect(first.count).toBe(1);
    expect(second.count).toBe(2);
    expect(second.resetInSeconds).toBeGreaterThan(0);
    expect(second.resetInSeconds).toBeLessThanOrEqual(900);
    expect(await subject.ttl("hits", key)).toBeLessThanOrEqual(900);
    await subject.expireAll();
    expect((await counters().hit(key, 900)).count).toBe(1);
  });

  /** A counter's count, read by adding one more hit: only as a test's last look at that counter. */
  const countOf = async (key: string) => (await counters().hit(key, 900)).count - 1;

  it("counts a hit on every key while none has reached its limit, then refuses and counts nothing", async () => {
    const [first, second] = [`login:${randomUUID()}`, `login:${randomUUID()}`];
    const hits = [
      { key: first, limit: 2 },
      { key: second, limit: 3 },
    ];
    expect(await counters().hitUnlessLimited(hits, 900)).toEqual([]);
    expect(await counters().hitUnlessLimited(hits, 900)).toEqual([]);
    const refused = await counters().hitUnlessLimited(hits, 900);
    expect(refused.map(({ key }) => key)).toEqual([first]);
    expect(refused[0]!.resetInSeconds).toBeGreaterThan(0);
    expect(refused[0]!.resetInSeconds).toBeLessThanOrEqual(900);
    expect(await subject.ttl("hits", second)).toBeLessThanOrEqual(900);
    expect(await countOf(second)).toBe(2);
    expect(await countOf(first)).toBe(2);
    expect(await counters().hitUnlessLimited([], 900)).toEqual([]);
  });

  it("lifts a limit while its waiving counter is above zero, and only that limit", async () => {
    const [limited, other, waiver] = [`login:${randomUUID()}`, `login:${randomUUID()}`, `login:${randomUUID()}`];
    const hits = [
      { key: limited, limit: 1, waivedBy: waiver },
      { key: other, limit: 2 },
    ];
    expect(await counters().hitUnlessLimited(hits, 900)).toEqual([]);
    expect((await counters().hitUnlessLimited(hits, 900)).map(({ key }) => key)).toEqual([limited]);
    await counters().hit(waiver, 900);
    expect(await counters().hitUnlessLimited(hits, 900)).toEqual([]);
    expect((await counters().hitUnlessLimited(hits, 900)).map(({ key }) => key)).toEqual([other]);
    expect(await countOf(limited)).toBe(2);
  });

  it("never lets concurrent callers overshoot a limit (20 trials of 30 callers)", async () => {
    for (let trial = 0; trial < 20; trial++) {
      const [shared, own] = [`login:${randomUUID()}`, `login:${randomUUID()}`];
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, caller) =>
          counters().hitUnlessLimited(
            [
              { key: shared, limit: 5 },
              { key: `${own}:${caller % 3}`, limit: 4 },
            ],
            900,
          ),
        ),
      );
      expect(answers.filter((reached) => reached.length === 0)).toHaveLength(5);
      expect(await countOf(shared)).toBe(5);
    }
  });

  it("settles in one call: forgets, takes hits back without creating counters, and counts one hit", async () => {
    const [forgotten, takenBack, absent, known] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    for (const key of [forgotten, forgotten, takenBack, takenBack]) await counters().hit(key, 900);
    await counters().settle({
      forget: [forgotten],
      unhit: [takenBack, absent],
      hit: { key: known, windowSeconds: 600 },
    });
    expect(await subject.ttl("hits", absent)).toBe(-2);
    expect(await subject.ttl("hits", known)).toBeGreaterThan(0);
    expect(await subject.ttl("hits", known)).toBeLessThanOrEqual(600);
    await counters().settle({});
    expect(await countOf(forgotten)).toBe(0);
    expect(await countOf(takenBack)).toBe(1);
    expect(await countOf(known)).toBe(1);
  });
});

describe.each(stores)("the %s store as the single-use store", (_name, open) => {
  let subject: Subject;
  const singleUse = (): SingleUseStore => subject.store;
  beforeAll(async () => {
    subject = await open();
  });
  afterAll(() => subject.store.close());

  it("hands a kept value to one take only, however many race for it", async () => {
    for (let trial = 0; trial < 20; trial++) {
      const key = `challenge:${randomUUID()}`;
      await singleUse().put(key, `value ${trial}`, 300);
      const taken = await Promise.all(Array.from({ length: 8 }, () => singleUse().take(key)));
      expect(taken.filter((value) => value !== null)).toEqual([`value ${trial}`]);
      expect(await singleUse().take(key)).toBeNull();
    }
    expect(await singleUse().take(`challenge:${randomUUID()}`)).toBeNull();
  });

  it("keeps the latest of two puts under one key, for one take", async () => {
    const key = `challenge:${randomUUID()}`;
    await singleUse().put(key, "first", 300);
    await singleUse().put(key, "second", 300);
    expect(await singleUse().take(key)).toBe("second");
    expect(await singleUse().take(key)).toBeNull();
    expect(await subject.ttl("once", key)).toBe(-2);
  });

  it("keeps a value only as long as asked, then no take gets it", async () => {
    const [key, other] = [`challenge:${randomUUID()}`, `challenge:${randomUUID()}`];
    await singleUse().put(key, "kept", 300);
    await singleUse().put(other, "kept too", 300);
    const ttl = await subject.ttl("once", key);
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
    await subject.expireAll();
    expect(await singleUse().take(key)).toBeNull();
    expect(await subject.ttl("once", other)).toBe(-2);
  });
});

describe("the in-process store under a flood of kept values", () => {
  it("stays within its cap, dropping the oldest first", async () => {
    const store = new MemoryStore(undefined, { maxCounters: 1_000 });
    for (let index = 0; index < 5_000; index++) await store.put(`challenge:${index}`, `value ${index}`, 300);
    expect(store.keptCount).toBeLessThanOrEqual(1_000);
    expect(await store.take("challenge:0")).toBeNull();
    expect(await store.take("challenge:4999")).toBe("value 4999");
    await store.close();
  });
});

describe.each(stores)("the %s store", (_name, open) => {
  let subject: Subject;
  beforeAll(async () => {
    subject = await open();
  });
  afterAll(() => subject.store.close());

  it("answers ping while reachable", async () => {
    await expect(subject.store.ping()).resolves.toBeUndefined();
  });
});
