import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryRevocationStore } from "../src/auth/revocation/memory-revocation-store.js";
import { RedisRevocationStore } from "../src/auth/revocation/redis-revocation-store.js";
import type { RevocationStore } from "../src/auth/revocation/revocation-store.js";
import { ManualClock } from "./helpers/clock.js";
import { openRevocationStore } from "./helpers/server.js";

/** Reads a key's remaining lifetime the way each store keeps it; -2 when the key is gone. */
type TtlReader = (kind: "session" | "hits", id: string) => Promise<number>;

interface Subject {
  store: RevocationStore;
  ttl: TtlReader;
  /** Lets every key expire: the clock moves for the in-process store; Redis is told to expire them. */
  expireAll(): Promise<void>;
}

async function memorySubject(): Promise<Subject> {
  const clock = new ManualClock();
  const store = new MemoryRevocationStore(clock);
  return {
    store,
    ttl: (kind, id) => store.ttl(`${kind === "session" ? "session" : "hits"}:${id}`),
    expireAll: async () => clock.advance(365 * 86400),
  };
}

async function redisSubject(): Promise<Subject> {
  const store = (await openRevocationStore("redis")) as RedisRevocationStore;
  return {
    store,
    ttl: (kind, id) => store.redis.ttl(store.key(kind, id)),
    expireAll: async () => {
      const keys = await store.redis.keys(`${store.key("session", "")}*`);
      const hits = await store.redis.keys(`${store.key("hits", "")}*`);
      // PEXPIRE 1 then wait for Redis itself to expire them: its own expiry, not a DEL.
      for (const key of [...keys, ...hits]) await store.redis.pexpire(key, 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}

describe.each([
  ["in-process", memorySubject],
  ["Redis", redisSubject],
] as const)("the %s revocation store", (_name, open) => {
  let subject: Subject;
  beforeAll(async () => {
    subject = await open();
  });
  afterAll(() => subject.store.close());

  it("remembers revoked sessions and nothing else", async () => {
    const [revoked, other] = [randomUUID(), randomUUID()];
    expect(await subject.store.isSessionRevoked(revoked)).toBe(false);
    await subject.store.revokeSessions([revoked], 900);
    expect(await subject.store.isSessionRevoked(revoked)).toBe(true);
    expect(await subject.store.isSessionRevoked(other)).toBe(false);
  });

  it("revokes many sessions at once, and none for an empty list", async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    await subject.store.revokeSessions(ids, 60);
    await subject.store.revokeSessions([], 60);
    for (const id of ids) expect(await subject.store.isSessionRevoked(id)).toBe(true);
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
    const id = randomUUID();
    await subject.store.revokeSessions([id], 5);
    await subject.expireAll();
    expect(await subject.store.isSessionRevoked(id)).toBe(false);
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

  it("answers ping while reachable", async () => {
    await expect(subject.store.ping()).resolves.toBeUndefined();
  });
});
