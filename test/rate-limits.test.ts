import { describe, expect, it } from "vitest";
import { MemoryStore } from "../src/store/memory-store.js";
import { PasswordAttemptLimiter } from "../src/rate-limit/password-attempts.js";
import { errorCodes, mutations, type GraphQLResponse } from "../harness/graphql.js";
import { newAccount, testConfig } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

// The shipped thresholds: 5 failures per (account, client), 20 per account, 100 per client.
const limits = testConfig().passwordAttempts;
const documentationAddresses = (block: number, count: number) =>
  Array.from({ length: count }, (_, index) => `198.51.${block}.${index + 1}`);

function expectRateLimited(response: GraphQLResponse): void {
  expect(errorCodes(response)).toEqual(["RATE_LIMITED"]);
  const retryAfter = response.errors![0]!.extensions!.retryAfterSeconds;
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(limits.windowSeconds);
}

describe.each(["redis", "memory"] as const)(
  "login limits, per client behind a trusted proxy, on the %s store",
  (store) => {
    // Clients are told apart by X-Forwarded-For, which the test (a trusted proxy) sets.
    const server = useTestServer({ store, config: { TRUST_PROXY: "127.0.0.1" }, loginLimits: limits });

    const logIn = (client: string, usernameOrEmail: string, password: string) =>
      server().request(
        mutations.login,
        { input: { usernameOrEmail, password } },
        { headers: { "x-forwarded-for": client } },
      );

    async function registered() {
      const account = newAccount("limits");
      await server().request(mutations.register, { input: account }, { headers: { "x-forwarded-for": "192.0.2.250" } });
      return account;
    }

    it("throttles the client that failed, not the owner at another; a spread of clients is throttled at the account's threshold", async () => {
      const account = await registered();
      const [attacker, owner] = ["203.0.113.66", "192.0.2.10"];
      for (let i = 0; i < limits.failuresPerClient; i++) {
        expect(errorCodes(await logIn(attacker, account.username, "wrong guess"))).toEqual(["INVALID_CREDENTIALS"]);
      }
      // Refused, and not counted: neither the wrong password nor the right one is checked.
      for (let i = 0; i < 7; i++) expectRateLimited(await logIn(attacker, account.username, "wrong guess"));
      expectRateLimited(await logIn(attacker, account.username, account.password));
      expect((await logIn(owner, account.username, account.password)).errors).toBeUndefined();

      // A distributed attack: one guess per client. The attacker's refused attempts counted nowhere,
      // so exactly failuresPerAccount − failuresPerClient more failures reach the threshold.
      const spread = documentationAddresses(100, limits.failuresPerAccount - limits.failuresPerClient);
      for (const client of spread) {
        expect(errorCodes(await logIn(client, account.username, "another guess"))).toEqual(["INVALID_CREDENTIALS"]);
      }
      const [next, newcomer] = documentationAddresses(101, 2) as [string, string];
      expectRateLimited(await logIn(next, account.username, "another guess"));
      expectRateLimited(await logIn(next, account.email, "another guess"));
      // A client the account has never seen sign in waits too, even with the right password…
      expectRateLimited(await logIn(newcomer, account.username, account.password));
      // …while the owner, at a client they signed in from, still gets in.
      const ownerLogin = await logIn(owner, account.email, account.password);
      expect(ownerLogin.errors).toBeUndefined();
      expect(ownerLogin.data!.login.user.username).toBe(account.username);
    });

    it("counts username and e-mail (in any folding) as one account", async () => {
      const account = await registered();
      const client = "203.0.113.70";
      const fullwidth = account.email.replace(/[a-z]/g, (c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0));
      const names = [
        account.username,
        account.email,
        account.username.toUpperCase(),
        fullwidth,
        account.email.toUpperCase(),
      ];
      for (const name of names.slice(0, limits.failuresPerClient)) {
        expect(errorCodes(await logIn(client, name, "wrong guess"))).toEqual(["INVALID_CREDENTIALS"]);
      }
      for (const name of names) expectRateLimited(await logIn(client, name, account.password));
    });

    it("does not count successes, and a success resets its client's failures", async () => {
      const account = await registered();
      const client = "203.0.113.71";
      for (let i = 0; i < 3 * limits.failuresPerClient; i++) {
        expect((await logIn(client, account.username, account.password)).errors).toBeUndefined();
      }
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < limits.failuresPerClient - 1; i++) {
          expect(errorCodes(await logIn(client, account.username, "wrong guess"))).toEqual(["INVALID_CREDENTIALS"]);
        }
        expect((await logIn(client, account.email, account.password)).errors).toBeUndefined();
      }
      for (let i = 0; i < limits.failuresPerClient; i++) {
        expect(errorCodes(await logIn(client, account.username, "wrong guess"))).toEqual(["INVALID_CREDENTIALS"]);
      }
      expectRateLimited(await logIn(client, account.username, account.password));
    });

    it("lets concurrent guesses from one client overshoot nothing", async () => {
      const account = await registered();
      const guesses = await Promise.all(
        Array.from({ length: 30 }, () => logIn("203.0.113.72", account.username, "wrong guess")),
      );
      const checked = guesses.filter((guess) => errorCodes(guess)[0] === "INVALID_CREDENTIALS").length;
      expect(checked).toBe(limits.failuresPerClient);
      for (const guess of guesses.filter((guess) => errorCodes(guess)[0] !== "INVALID_CREDENTIALS"))
        expectRateLimited(guess);
    });
  },
);

describe("login limits per client across accounts, and registrations per client", () => {
  const server = useTestServer({
    store: "memory",
    config: { TRUST_PROXY: "127.0.0.1" },
    loginLimits: { ...limits, failuresPerAddress: 8, registrationsPerAddress: 3 },
  });
  const as = (client: string) => ({ headers: { "x-forwarded-for": client } });

  it("throttles a client spraying many accounts, and no other", async () => {
    const accounts = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const account = newAccount("spray");
        await server().request(
          mutations.register,
          { input: account },
          as(`192.0.2.${Math.floor(Math.random() * 200) + 1}`),
        );
        return account;
      }),
    );
    const sprayer = "203.0.113.80";
    let failures = 0;
    for (const account of accounts) {
      for (let i = 0; i < 2; i++, failures++) {
        const response = await server().request(
          mutations.login,
          { input: { usernameOrEmail: account.username, password: "guess" } },
          as(sprayer),
        );
        expect(errorCodes(response)).toEqual(["INVALID_CREDENTIALS"]);
      }
    }
    expect(failures).toBe(8);
    const blocked = await server().request(
      mutations.login,
      { input: { usernameOrEmail: accounts[0]!.username, password: accounts[0]!.password } },
      as(sprayer),
    );
    expectRateLimited(blocked);
    const elsewhere = await server().request(
      mutations.login,
      { input: { usernameOrEmail: accounts[0]!.username, password: accounts[0]!.password } },
      as("203.0.113.81"),
    );
    expect(elsewhere.errors).toBeUndefined();
  });

  it("limits registrations per client address", async () => {
    const client = "203.0.113.90";
    for (let i = 0; i < 3; i++)
      expect((await server().request(mutations.register, { input: newAccount() }, as(client))).errors).toBeUndefined();
    const limited = await server().request(mutations.register, { input: newAccount() }, as(client));
    expect(errorCodes(limited)).toEqual(["RATE_LIMITED"]);
    const retryAfter = limited.errors![0]!.extensions!.retryAfterSeconds;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(
      (await server().request(mutations.register, { input: newAccount() }, as("203.0.113.91"))).errors,
    ).toBeUndefined();
  });
});

describe("the in-process store under a flood of login names", () => {
  it("stays within its cap, and a blocked client adds nothing", async () => {
    const store = new MemoryStore(undefined, { maxCounters: 1_000 });
    const limiter = new PasswordAttemptLimiter(store, limits);
    const names = 20_000;
    // 200 clients, 100 names each: every guess is a failure (never settled as a success).
    for (let index = 0; index < names; index++) {
      await limiter
        .begin(`name:stranger-${index}`, `198.18.${Math.floor(index / 100) % 256}.${(index % 100) + 1}`)
        .catch(() => {});
    }
    expect(store.counterCount).toBeLessThanOrEqual(1_000);

    const fresh = new MemoryStore();
    const freshLimiter = new PasswordAttemptLimiter(fresh, limits);
    const blocked = "203.0.113.99";
    for (let index = 0; index < limits.failuresPerAddress; index++)
      await freshLimiter.begin(`name:first-${index}`, blocked);
    const before = fresh.counterCount;
    let refused = 0;
    for (let index = 0; index < names; index++) {
      await freshLimiter.begin(`name:later-${index}`, blocked).catch(() => refused++);
    }
    expect(refused).toBe(names);
    expect(fresh.counterCount).toBe(before);
    await Promise.all([store.close(), fresh.close()]);
  });
});

describe.each([
  ["on (the test is the trusted proxy)", "127.0.0.1", true],
  ["off", undefined, false],
] as const)("X-Forwarded-For with TRUST_PROXY %s", (_name, trustProxy, separate) => {
  const server = useTestServer({ config: trustProxy ? { TRUST_PROXY: trustProxy } : {}, loginLimits: limits });

  it(separate ? "limits two clients behind the proxy separately" : "changes nothing, whatever it claims", async () => {
    const account = newAccount("proxied");
    await server().request(mutations.register, { input: account });
    const logIn = (forwardedFor: string, password: string) =>
      server().request(
        mutations.login,
        { input: { usernameOrEmail: account.username, password } },
        { headers: { "x-forwarded-for": forwardedFor } },
      );
    for (let i = 0; i < limits.failuresPerClient; i++) {
      expect(errorCodes(await logIn("203.0.113.20", "wrong guess"))).toEqual(["INVALID_CREDENTIALS"]);
    }
    expectRateLimited(await logIn("203.0.113.20", account.password));
    // Another client, or the same one forging a new address in front of its real one.
    for (const forwardedFor of ["203.0.113.21", "198.51.100.5, 203.0.113.22"]) {
      const other = await logIn(forwardedFor, account.password);
      if (separate) expect(other.errors).toBeUndefined();
      else expectRateLimited(other);
    }
  });
});
