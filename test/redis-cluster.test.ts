import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { errorCodes, mutations, sessionMutations } from "../harness/graphql.js";
import { RateLimitedError } from "../src/errors/errors.js";
import { PasswordAttemptLimiter } from "../src/rate-limit/password-attempts.js";
import { keySlot, slotTag } from "../src/store/key-slot.js";
import type { HostAndPort } from "../src/store/redis-connection.js";
import type { RedisStore } from "../src/store/redis-store.js";
import { useTestDatabase } from "./helpers/database.js";
import { outboxSettled } from "./helpers/outbox.js";
import { useRedisCluster } from "./helpers/redis-cluster.js";
import { storeKeys } from "./helpers/redis-keys.js";
import { newAccount, startTestServer } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

const cluster = useRedisCluster();
// Every test client is 127.0.0.1: the limits stay high enough for a burst of failed logins.
const server = useTestServer({ store: "cluster", loginLimits: { failuresPerClient: 3 } });
const store = () => server().store as RedisStore;

const sessionOf = (accessToken: string): string =>
  JSON.parse(Buffer.from(accessToken.split(".")[1]!, "base64url").toString()).sid;
const nodeName = ({ host, port }: HostAndPort) => `${host}:${port}`;

interface Signed {
  account: ReturnType<typeof newAccount>;
  userId: string;
  sessionId: string;
  accessToken: string;
}

async function signUp(): Promise<Signed> {
  const account = newAccount("cluster");
  const response = await server().request(mutations.register, { input: account });
  expect(response.errors).toBeUndefined();
  const { accessToken, user } = response.data!.register;
  return { account, userId: user.id, sessionId: sessionOf(accessToken), accessToken };
}

async function logOut(signed: Signed): Promise<void> {
  const response = await server().request(sessionMutations.logout, {}, { token: signed.accessToken });
  expect(response.data).toEqual({ logout: true });
}

const acceptedCount = async (signed: Signed[]) => {
  const answers = await Promise.all(
    signed.map(({ accessToken }) => server().request(mutations.me, {}, { token: accessToken })),
  );
  return answers.filter((answer) => !answer.errors).length;
};

describe("where the keys land", () => {
  it("computes the slot of any key as the servers do, hash tags and escaped tags included (300 keys)", async () => {
    const node = cluster().nodes[0]!;
    const samples = [
      "plain",
      "{}empty-tag",
      "{a}b",
      "a{b}c{d}",
      "{unclosed",
      "}{x}",
      "ünïcödé{ключ}",
      slotTag("}{"),
      slotTag("%7B"),
      ...Array.from({ length: 291 }, () => randomBytes(1 + Math.floor(Math.random() * 12)).toString("latin1")),
    ];
    for (const key of samples) {
      expect(await cluster().command(node, "CLUSTER", "KEYSLOT", key), JSON.stringify(key)).toBe(keySlot(key));
    }
  });

  it("keeps the keys of one account in one slot and those of one session's shard in another; spreads both over every master", async () => {
    const accounts = await Promise.all(Array.from({ length: 24 }, signUp));
    // A failed login then a successful one write the counters of an account; logouts write revocations.
    const logIn = (usernameOrEmail: string, password: string) =>
      server().request(mutations.login, { input: { usernameOrEmail, password } });
    await Promise.all(accounts.map(({ account }) => logIn(account.username, "a wrong password")));
    await Promise.all(accounts.map(({ account }) => logIn(account.username, account.password)));
    await Promise.all(accounts.map(logOut));
    const masterOf = await cluster().slotMasters();
    const keys = await storeKeys(store());
    const accountMasters = new Set<string>();
    for (const { userId, sessionId } of accounts) {
      const ofAccount = keys.filter((key) => key.includes(userId));
      expect(ofAccount.length).toBeGreaterThanOrEqual(2);
      expect(new Set(ofAccount.map(keySlot)).size, ofAccount.join(" ")).toBe(1);
      accountMasters.add(nodeName(masterOf(keySlot(ofAccount[0]!))));

      const revoked = keys.find((key) => key.endsWith(`session:${sessionId}`))!;
      const shardMark = revoked.replace(/session:.*$/, "current");
      expect(keys).toContain(shardMark);
      expect(keySlot(shardMark)).toBe(keySlot(revoked));
    }
    const masters = (await cluster().masters()).map(nodeName);
    expect([...accountMasters].sort()).toEqual(masters.sort());
    const shardMasters = new Set(
      keys.filter((key) => key.endsWith("}current")).map((key) => nodeName(masterOf(keySlot(key)))),
    );
    expect([...shardMasters].sort()).toEqual(masters.sort());
  });
});

describe("login names that play with hash tags", () => {
  it("keep each name's counters in one slot and its allowance exact under concurrent guesses (14 names × 10 guesses)", async () => {
    const names = [
      "}",
      "{",
      "{}",
      "}{",
      "a}b",
      "{a}b",
      "%7D",
      "%",
      "%%7B%7D",
      "{{}}",
      "ключ{",
      "",
      " ",
      "x".repeat(300),
    ];
    const limiter = new PasswordAttemptLimiter(store(), {
      failuresPerClient: 3,
      failuresPerAccount: 1_000,
      failuresPerAddress: 1_000,
      windowSeconds: 900,
      registrationsPerAddress: 1_000,
      signInStartsPerAddress: 1_000,
    });
    for (const name of names) {
      const client = `198.51.100.${names.indexOf(name) + 1}`;
      const guesses = await Promise.allSettled(Array.from({ length: 10 }, () => limiter.begin(name, client)));
      const refusals = guesses.flatMap((guess) => (guess.status === "rejected" ? [guess.reason] : []));
      expect(guesses.length - refusals.length, JSON.stringify(name)).toBe(3);
      for (const refusal of refusals) expect(refusal).toBeInstanceOf(RateLimitedError);
      const keys = (await storeKeys(store(), "hits:login:*")).filter((key) => key.includes(slotTag(name)));
      expect(new Set(keys.map(keySlot)).size, JSON.stringify(keys)).toBe(1);
    }
  });
});

describe("user events with EVENT_STREAM on the Cluster", () => {
  const database = useTestDatabase();

  it("adds every event to the stream on the master of its slot (15 registrations)", async () => {
    const stream = `test:events:${randomBytes(6).toString("hex")}`;
    const streamed = await startTestServer({
      databaseUrl: database().url,
      store: "cluster",
      config: { REDIS_CLUSTER_NODES: cluster().nodes.map(nodeName).join(","), EVENT_STREAM: stream },
    });
    try {
      const registered = await Promise.all(
        Array.from({ length: 15 }, async () => {
          const response = await streamed.request(mutations.register, { input: newAccount("stream") });
          expect(response.errors).toBeUndefined();
          return response.data!.register.user.id as string;
        }),
      );
      await outboxSettled(streamed);
      const statuses = await streamed.database.$queryRaw<{ status: string; count: number }[]>`
        SELECT status::text, count(*)::int AS count FROM outbox_deliveries WHERE receiver = ${`stream:${stream}`}
        GROUP BY status`;
      expect(statuses).toEqual([{ status: "delivered", count: 15 }]);
      const master = (await cluster().slotMasters())(keySlot(stream));
      const entries = (await cluster().command(master, "XRANGE", stream, "-", "+")) as [string, string[]][];
      const registrations = entries
        .map(([, fields]) => Object.fromEntries(fields.flatMap((_, i) => (i % 2 ? [] : [[fields[i], fields[i + 1]]]))))
        .filter((fields) => fields.type === "user.registered")
        .map((fields) => fields.userId);
      expect(registrations.sort()).toEqual([...registered].sort());
      await cluster().command(master, "DEL", stream);
    } finally {
      await streamed.close();
    }
  });
});

describe("a master that restarts empty", () => {
  let loggedOut: Signed[];
  let live: Signed[];
  beforeAll(async () => {
    const signed = await Promise.all(Array.from({ length: 60 }, signUp));
    loggedOut = signed.slice(0, 40);
    live = signed.slice(40);
    await Promise.all(loggedOut.map(logOut));
  });

  it("reads unknown for its shards only, which are rebuilt: 0 of 40 logged-out tokens accepted, live ones are", async () => {
    const masterOf = await cluster().slotMasters();
    const victim = masterOf(keySlot(store().key("session", loggedOut[0]!.sessionId)));
    const onVictim = (signed: Signed) =>
      nodeName(masterOf(keySlot(store().key("session", signed.sessionId)))) === nodeName(victim);
    for (const signed of [...loggedOut, ...live])
      expect(await store().sessionRevocation(signed.sessionId)).not.toBe("unknown");

    await cluster().kill(victim);
    await cluster().restart(victim);
    await cluster().settled();

    // Before any request: the shards of the restarted master are unknown, the others still current.
    for (const signed of loggedOut) {
      expect(await store().sessionRevocation(signed.sessionId)).toBe(onVictim(signed) ? "unknown" : "revoked");
    }
    expect(loggedOut.filter(onVictim).length).toBeGreaterThan(0);
    expect(loggedOut.filter((signed) => !onVictim(signed)).length).toBeGreaterThan(0);

    expect(await acceptedCount(loggedOut)).toBe(0);
    expect(await acceptedCount(live)).toBe(live.length);
    for (const signed of loggedOut) expect(await store().sessionRevocation(signed.sessionId)).toBe("revoked");
    expect(errorCodes(await server().request(mutations.me, {}, { token: loggedOut[0]!.accessToken }))).toEqual([
      "UNAUTHENTICATED",
    ]);
  });
});
