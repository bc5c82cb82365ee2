import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryRevocationStore } from "../src/auth/revocation/memory-revocation-store.js";
import { RedisRevocationStore } from "../src/auth/revocation/redis-revocation-store.js";
import type { RevocationEntry, RevocationStore } from "../src/auth/revocation/revocation-store.js";
import { ManualClock } from "./helpers/clock.js";
import { openRevocationStore } from "./helpers/server.js";

/** Reads a key's remaining lifetime the way each store keeps it; -2 when the key is gone. */
type TtlReader = (kind: "session" | "hits" | "once", id: string) => Promise<number>;

interface Subject {
  store: RevocationStore;
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
    store: new MemoryRevocationStore(clock),
    ttl: (kind, id) => (subject.store as MemoryRevocationStore).ttl(kind, id),
    expireAll: async () => clock.advance(365 * 86400),
    loseData: async () => {
      await subject.store.close();
      subject.store = new MemoryRevocationStore(clock);
    },
  };
  return subject;
}

async function redisSubject(): Promise<Subject> {
  const store = (await openRevocationStore("redis")) as RedisRevocationStore;
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
      const once = await store.redis.keys(`${store.key("once", "")}*`);
      // PEXPIRE 1 then wait for Redis itself to expire them: its own expiry, not a DEL.
      for (const key of [...keys, ...hits, ...once]) await store.redis.pexpire(key, 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}

describe.each([
  ["in-process", memorySubject],
  ["Redis", redisSubject],
] as const)("the %s revocation store", (_name, open) => {
  let subject: Subject;
  const rebuild = async (entries: RevocationEntry[] = []) =>
    subject.store.completeRebuild(await subject.store.beginRebuild(), entries);
  beforeAll(async () => {
    subject = await open();
  });
  afterAll(() => subject.store.close());

  it("knows nothing until rebuilt, then holds what the rebuild loaded", async () => {
    const [loaded, revokedBefore, other] = [randomUUID(), randomUUID(), randomUUID()];
    await subject.store.revokeSessions([revokedBefore], 900);
    for (const id of [loaded, revokedBefore, other]) expect(await subject.store.sessionRevocation(id)).toBe("unknown");
    expect(await rebuild([{ sessionId: loaded, ttlSeconds: 300 }])).toBe(true);
    expect(await subject.store.sessionRevocation(loaded)).toBe("revoked");
    expect(await subject.store.sessionRevocation(revokedBefore)).toBe("revoked");
    expect(await subject.store.sessionRevocation(other)).toBe("live");
    const ttl = await subject.ttl("session", loaded);
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
  });

  it("completes only the latest rebuild", async () => {
    const first = await subject.store.beginRebuild();
    const second = await subject.store.beginRebuild();
    expect(await subject.store.completeRebuild(first, [])).toBe(false);
    expect(await subject.store.completeRebuild(second, [])).toBe(true);
  });

  it("knows nothing again once it lost its data, until rebuilt", async () => {
    const revoked = randomUUID();
    await rebuild();
    await subject.store.revokeSessions([revoked], 900);
    const pending = await subject.store.beginRebuild();
    await subject.loseData();
    expect(await subject.store.sessionRevocation(revoked)).toBe("unknown");
    expect(await subject.store.sessionRevocation(randomUUID())).toBe("unknown");
    // A rebuild begun before the loss does not mark the new, empty store current.
    expect(await subject.store.completeRebuild(pending, [])).toBe(false);
    expect(await subject.store.sessionRevocation(revoked)).toBe("unknown");
    expect(await rebuild([{ sessionId: revoked, ttlSeconds: 60 }])).toBe(true);
    expect(await subject.store.sessionRevocation(revoked)).toBe("revoked");
  });

  it("remembers revoked sessions and nothing else", async () => {
    await rebuild();
    const [revoked, other] = [randomUUID(), randomUUID()];
    expect(await subject.store.sessionRevocation(revoked)).toBe("live");
    await subject.store.revokeSessions([revoked], 900);
    expect(await subject.store.sessionRevocation(revoked)).toBe("revoked");
    expect(await subject.store.sessionRevocation(other)).toBe("live");
  });

  it("revokes many sessions at once, and none for an empty list", async () => {
    await rebuild();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    await subject.store.revokeSessions(ids, 60);
    await subject.store.revokeSessions([], 60);
    for (const id of ids) expect(await subject.store.sessionRevocation(id)).toBe("revoked");
  });

  it("keeps a revocation only as long as asked: keys carry the TTL they were given", async () => {
    const id = randomUUID();
    await subject.store.revokeSessions([id], 600);
    const ttl = await subject.ttl("session", id);
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
    expect(await subject.ttl("session", randomUUID())).toBe(-2);
  });

  it("forgets a revocation once its TTL has passed", async () => {
    await rebuild();
    const id = randomUUID();
    await subject.store.revokeSessions([id], 5);
    await subject.expireAll();
    expect(await subject.store.sessionRevocation(id)).toBe("live");
    expect(await subject.ttl("session", id)).toBe(-2);
  });

  it("counts hits in a fixed window that later hits do not extend", async () => {
    const key = `login:${randomUUID()}`;
    const first = await subject.store.hit(key, 900);
    const second = await subject.store.hit(key, 900);
    expect(first.count).toBe(1);
    expect(second.count).toBe(2);
    expect(second.resetInSeconds).toBeGreaterThan(0);
    expect(second.resetInSeconds).toBeLessThanOrEqual(900);
    expect(await subject.ttl("hits", key)).toBeLessThanOrEqual(900);
    await subject.expireAll();
    expect((await subject.store.hit(key, 900)).count).toBe(1);
  });

  it("hands a single-use value to the first take only, replaced by a later put, and keeps it only as long as asked", async () => {
    const key = `once:${randomUUID()}`;
    await subject.store.putOnce(key, "first", 600);
    await subject.store.putOnce(key, "second", 600);
    const ttl = await subject.ttl("once", key);
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
    expect(await subject.store.takeOnce(key)).toBe("second");
    expect(await subject.store.takeOnce(key)).toBeNull();
    expect(await subject.ttl("once", key)).toBe(-2);
    expect(await subject.store.takeOnce(`once:${randomUUID()}`)).toBeNull();
  });

  it("gives a single-use value to exactly one of many concurrent takes, every time", async () => {
    for (let trial = 0; trial < 50; trial++) {
      const key = `once:${randomUUID()}`;
      await subject.store.putOnce(key, `value ${trial}`, 60);
      const taken = await Promise.all(Array.from({ length: 8 }, () => subject.store.takeOnce(key)));
      expect(taken.filter((value) => value !== null)).toEqual([`value ${trial}`]);
      expect(await subject.store.takeOnce(key)).toBeNull();
    }
  });

  it("forgets single-use values once their TTL has passed", async () => {
    const [key, other] = [`once:${randomUUID()}`, `once:${randomUUID()}`];
    await subject.store.putOnce(key, "late", 5);
    await subject.store.putOnce(other, "late too", 5);
    await subject.expireAll();
    expect(await subject.store.takeOnce(key)).toBeNull();
    expect(await subject.ttl("once", other)).toBe(-2);
  });

  it("answers ping while reachable", async () => {
    await expect(subject.store.ping()).resolves.toBeUndefined();
  });
});

it("the in-process store keeps at most its cap of single-use values, dropping the oldest first", async () => {
  const store = new MemoryRevocationStore(new ManualClock(), { maxCounters: 3 });
  for (const key of ["a", "b", "c", "d"]) await store.putOnce(key, key, 60);
  expect(await store.takeOnce("a")).toBeNull();
  expect(await Promise.all(["b", "c", "d"].map((key) => store.takeOnce(key)))).toEqual(["b", "c", "d"]);
  await store.close();
});
