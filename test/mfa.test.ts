import pg from "pg";
import { describe, expect, it } from "vitest";
import { mfaChallengeLifetimeSeconds } from "../src/mfa/mfa-challenges.js";
import { codeAttemptsPerChallenge } from "../src/mfa/mfa-login.js";
import { codeAttemptsPerWindow } from "../src/mfa/second-factor.js";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, mutations, sessionMutations } from "../harness/graphql.js";
import type { TemporaryFileTransport } from "./helpers/mail.js";
import { authenticatorCode, expectCodes, mfaClient, mfaDocuments } from "./helpers/mfa.js";
import { outboxSettled } from "./helpers/outbox.js";
import { testEncryptionKeys } from "./helpers/server.js";
import { useRedisCluster } from "./helpers/redis-cluster.js";
import { useTestServer } from "./helpers/test-server.js";

useRedisCluster();
const clock = new ManualClock(new Date("2026-11-25T12:00:00.000Z"));
const server = useTestServer({ clock });
const client = mfaClient(server, clock);
const { request, login, mfaToken, complete, register, registerWithMfa, nextStep } = client;

async function query<T>(sql: string, values: unknown[] = []): Promise<T[]> {
  const connection = new pg.Client({ connectionString: server().database.pool.options.connectionString });
  await connection.connect();
  try {
    return (await connection.query(sql, values)).rows as T[];
  } finally {
    await connection.end();
  }
}

/** Subjects of the mails the server has sent to `address`, oldest first, once the outbox has delivered what was queued. */
async function mailSubjects(address: string): Promise<string[]> {
  await outboxSettled(server());
  const messages = await (server().mailTransport as TemporaryFileTransport).messages();
  return messages.filter((mail) => mail.to.includes(address)).map((mail) => mail.subject);
}

describe("enrolment", () => {
  it("changes nothing until confirmed; confirming turns MFA on, returns 10 recovery codes once and ends the other sessions", async () => {
    const { account, accessToken } = await register();
    const other = (await login(account)).data!.login;

    const enrolled = await request(mfaDocuments.enroll, { currentPassword: account.password }, accessToken);
    expect(enrolled.errors).toBeUndefined();
    const { secret, otpauthUrl, qrCodeDataUrl } = enrolled.data!.enrollTotp;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(otpauthUrl);
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(uri.searchParams.get("secret")).toBe(secret);
    expect(uri.searchParams.get("issuer")).toBe("users-subgraph");
    expect(decodeURIComponent(uri.pathname)).toBe(`/users-subgraph:${account.email}`);
    expect(qrCodeDataUrl).toMatch(/^data:image\/png;base64,/);
    const png = Buffer.from(qrCodeDataUrl.split(",")[1], "base64");
    expect(png.subarray(1, 4).toString()).toBe("PNG");

    // Not confirmed: logins go on as before.
    expect((await request(mfaDocuments.totpEnabled, {}, accessToken)).data!.me.totpEnabled).toBe(false);
    expect((await login(account)).errors).toBeUndefined();

    expectCodes(await request(mfaDocuments.confirm, { code: await authenticatorCode(secret, clock, 2) }, accessToken), [
      "INVALID_MFA_CODE",
    ]);
    expectCodes(await request(mfaDocuments.confirm, { code: "not a code" }, accessToken), ["INVALID_MFA_CODE"]);

    const confirmed = await request(
      mfaDocuments.confirm,
      { code: await authenticatorCode(secret, clock) },
      accessToken,
    );
    expect(confirmed.errors).toBeUndefined();
    const codes: string[] = confirmed.data!.confirmTotp;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);

    expect((await request(mfaDocuments.totpEnabled, {}, accessToken)).data!.me.totpEnabled).toBe(true);
    expect(await mailSubjects(account.email)).toContain("Two-factor authentication is on");
    // The other session ended; the one that turned MFA on goes on.
    expectCodes(await request(mutations.me, {}, other.accessToken), ["UNAUTHENTICATED"]);
    expectCodes(await request(sessionMutations.refresh, { refreshToken: other.refreshToken }), [
      "INVALID_REFRESH_TOKEN",
    ]);
    expect((await request(mutations.me, {}, accessToken)).errors).toBeUndefined();
    // Confirming again has nothing to confirm.
    nextStep();
    expectCodes(await request(mfaDocuments.confirm, { code: await authenticatorCode(secret, clock) }, accessToken), [
      "INVALID_MFA_CODE",
    ]);
  });

  it("needs the current password, refuses a second authenticator while one is on, and needs a token", async () => {
    const { account, accessToken } = await register();
    expectCodes(await request(mfaDocuments.enroll, { currentPassword: "wrong password" }, accessToken), [
      "INVALID_CREDENTIALS",
    ]);
    expectCodes(await request(mfaDocuments.enroll, { currentPassword: account.password }), ["UNAUTHENTICATED"]);

    const enabled = await registerWithMfa();
    expectCodes(
      await request(mfaDocuments.enroll, { currentPassword: enabled.account.password }, enabled.accessToken),
      ["FORBIDDEN"],
    );
    // Still the first authenticator.
    const token = await mfaToken(enabled.account);
    expect((await complete(token, await authenticatorCode(enabled.secret, clock))).errors).toBeUndefined();
  });

  it("shows totpEnabled to the owner only: anyone else gets null and FORBIDDEN", async () => {
    const owner = await registerWithMfa();
    const stranger = await register();
    const byId = `query User($id: ID!) { user(id: $id) { id totpEnabled } }`;
    const seen = await request(byId, { id: owner.userId }, stranger.accessToken);
    expect(seen.data!.user).toEqual({ id: owner.userId, totpEnabled: null });
    expect(errorCodes(seen)).toEqual(["FORBIDDEN"]);
    const anonymous = await request(byId, { id: owner.userId });
    expect(anonymous.data!.user.totpEnabled).toBeNull();
    expect((await request(byId, { id: owner.userId }, owner.accessToken)).data!.user.totpEnabled).toBe(true);
  });
});

describe("login with MFA", () => {
  it("answers MFA_REQUIRED with an mfaToken for the right password; completeLogin with a code gives the usual payload", async () => {
    const { account, userId, secret } = await registerWithMfa();
    const sessionsBefore = await query(`SELECT id FROM sessions WHERE user_id = $1`, [userId]);

    const response = await login(account);
    expect(response.data).toBeNull();
    expectCodes(response, ["MFA_REQUIRED"]);
    const token = response.errors![0]!.extensions!.mfaToken as string;
    expect(token.length).toBeGreaterThanOrEqual(40);
    // No session starts before the second factor.
    expect(await query(`SELECT id FROM sessions WHERE user_id = $1`, [userId])).toEqual(sessionsBefore);

    // A wrong password says nothing about MFA.
    const wrong = await login({ ...account, password: "not the password" });
    expectCodes(wrong, ["INVALID_CREDENTIALS"]);
    expect(wrong.errors![0]!.extensions!.mfaToken).toBeUndefined();

    const completed = await complete(token, await authenticatorCode(secret, clock));
    expect(completed.errors).toBeUndefined();
    const payload = completed.data!.completeLogin;
    expect(payload.user).toEqual({ id: userId, email: account.email, totpEnabled: true });
    const me = await request(mutations.me, {}, payload.accessToken);
    expect(me.data!.me.id).toBe(userId);
    expect((await request(sessionMutations.refresh, { refreshToken: payload.refreshToken })).errors).toBeUndefined();
  });

  it("takes each recovery code once, in any case and without dashes", async () => {
    const { account, userId, recoveryCodes } = await registerWithMfa();
    const [first, second] = recoveryCodes as [string, string];

    const once = await complete(await mfaToken(account), first);
    expect(once.errors).toBeUndefined();
    expect((await request(mutations.me, {}, once.data!.completeLogin.accessToken)).data!.me.id).toBe(userId);
    expectCodes(await complete(await mfaToken(account), first), ["INVALID_MFA_CODE"]);

    const typed = second.replaceAll("-", "").toUpperCase();
    expect((await complete(await mfaToken(account), typed)).errors).toBeUndefined();
  });

  it("refuses a replayed code, a code two steps old, another account's code; accepts one step of drift", async () => {
    const alice = await registerWithMfa();
    const bob = await registerWithMfa();

    const code = await authenticatorCode(alice.secret, clock);
    expect((await complete(await mfaToken(alice.account), code)).errors).toBeUndefined();
    // The same code again, within its step, on a new login.
    expectCodes(await complete(await mfaToken(alice.account), code), ["INVALID_MFA_CODE"]);

    clock.advance(120);
    expectCodes(await complete(await mfaToken(alice.account), await authenticatorCode(alice.secret, clock, -2)), [
      "INVALID_MFA_CODE",
    ]);
    expectCodes(await complete(await mfaToken(alice.account), await authenticatorCode(alice.secret, clock, 2)), [
      "INVALID_MFA_CODE",
    ]);
    expectCodes(await complete(await mfaToken(alice.account), await authenticatorCode(bob.secret, clock)), [
      "INVALID_MFA_CODE",
    ]);
    expectCodes(await complete(await mfaToken(alice.account), bob.recoveryCodes[0]!), ["INVALID_MFA_CODE"]);
    // One step behind (a slow phone clock) is fine, once; then no older code works.
    expect(
      (await complete(await mfaToken(alice.account), await authenticatorCode(alice.secret, clock, -1))).errors,
    ).toBeUndefined();
    nextStep();
    expectCodes(await complete(await mfaToken(alice.account), await authenticatorCode(alice.secret, clock, -2)), [
      "INVALID_MFA_CODE",
    ]);
    expect(
      (await complete(await mfaToken(alice.account), await authenticatorCode(alice.secret, clock))).errors,
    ).toBeUndefined();
    // Bob's codes were untouched by all this.
    expect((await complete(await mfaToken(bob.account), bob.recoveryCodes[0]!)).errors).toBeUndefined();
  });

  it("refuses an expired, a used or an unknown mfaToken", async () => {
    const { account, secret } = await registerWithMfa();

    const expiring = await mfaToken(account);
    clock.advance(mfaChallengeLifetimeSeconds + 1);
    expectCodes(await complete(expiring, await authenticatorCode(secret, clock)), ["INVALID_MFA_TOKEN"]);

    const used = await mfaToken(account);
    expect((await complete(used, await authenticatorCode(secret, clock))).errors).toBeUndefined();
    nextStep();
    expectCodes(await complete(used, await authenticatorCode(secret, clock)), ["INVALID_MFA_TOKEN"]);
    expectCodes(await complete("made-up-token", await authenticatorCode(secret, clock)), ["INVALID_MFA_TOKEN"]);
  });

  it("binds the mfaToken to the password it was issued for: changed since, the login does not complete", async () => {
    const { account, accessToken, secret } = await registerWithMfa();
    const token = await mfaToken(account);
    const changed = await request(
      sessionMutations.changePassword,
      { currentPassword: account.password, newPassword: `${account.password} 2` },
      accessToken,
    );
    expect(changed.errors).toBeUndefined();
    expectCodes(await complete(token, await authenticatorCode(secret, clock)), ["INVALID_CREDENTIALS"]);
  });

  it("never lets a login that raced MFA being turned on keep a password-only session", async () => {
    const trials = 8;
    for (let trial = 0; trial < trials; trial++) {
      const { account, accessToken } = await register();
      const enrolled = await request(mfaDocuments.enroll, { currentPassword: account.password }, accessToken);
      const code = await authenticatorCode(enrolled.data!.enrollTotp.secret, clock);
      const [logins, confirmed] = await Promise.all([
        Promise.all([1, 2, 3].map(() => login(account))),
        request(mfaDocuments.confirm, { code }, accessToken),
      ]);
      expect(confirmed.errors).toBeUndefined();
      for (const response of logins) {
        if (response.errors) {
          // After MFA went on; or its password check overlapped the change and its session was refused.
          expect(errorCodes(response)).toEqual([expect.stringMatching(/^(MFA_REQUIRED|INVALID_CREDENTIALS)$/)]);
          continue;
        }
        // A login that got tokens before MFA was on: its session was ended with the others.
        expectCodes(await request(mutations.me, {}, response.data!.login.accessToken), ["UNAUTHENTICATED"]);
      }
      expect((await request(mutations.me, {}, accessToken)).errors).toBeUndefined();
    }
  });

  it("kills an mfaToken after too many wrong codes, and throttles code guesses per account", async () => {
    const { account, secret } = await registerWithMfa();
    const wrongCode = async () => {
      const right = await authenticatorCode(secret, clock);
      return right === "000000" ? "111111" : "000000";
    };

    const token = await mfaToken(account);
    for (let attempt = 0; attempt < codeAttemptsPerChallenge; attempt++) {
      expectCodes(await complete(token, await wrongCode()), ["INVALID_MFA_CODE"]);
    }
    expectCodes(await complete(token, await authenticatorCode(secret, clock)), ["INVALID_MFA_TOKEN"]);

    // New logins give new tokens, but the account's guesses stay counted (the code that turned MFA
    // on and the one presented with the dead token count too).
    const remaining = codeAttemptsPerWindow - codeAttemptsPerChallenge - 2;
    const next = await mfaToken(account);
    for (let attempt = 0; attempt < remaining; attempt++) {
      expectCodes(await complete(next, await wrongCode()), ["INVALID_MFA_CODE"]);
    }
    const limited = await complete(await mfaToken(account), await authenticatorCode(secret, clock));
    expectCodes(limited, ["RATE_LIMITED"]);
    expect(limited.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
    // The limit is per account: others log in as usual.
    const other = await registerWithMfa();
    expect(
      (await complete(await mfaToken(other.account), await authenticatorCode(other.secret, clock))).errors,
    ).toBeUndefined();

    clock.advance(15 * 60);
    expect((await complete(await mfaToken(account), await authenticatorCode(secret, clock))).errors).toBeUndefined();
  });

  it("lets one presentation win when a code or an mfaToken is used concurrently", async () => {
    const trials = 5;
    const { account, secret, userId, recoveryCodes } = await registerWithMfa();
    const sessionCount = async () =>
      (await query<{ n: number }>(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1`, [userId]))[0]!.n;
    for (let trial = 0; trial < trials; trial++) {
      clock.advance(15 * 60); // a fresh window for the per-account limit, and a fresh code
      // One code on three logins at once.
      const tokens = await Promise.all([1, 2, 3].map(() => mfaToken(account)));
      const code = await authenticatorCode(secret, clock);
      const sameCode = await Promise.all(tokens.map((token) => complete(token, code)));
      expect(sameCode.filter((response) => !response.errors)).toHaveLength(1);
      for (const refused of sameCode.filter((response) => response.errors)) expectCodes(refused, ["INVALID_MFA_CODE"]);

      // One mfaToken with two valid codes at once: one session starts.
      nextStep();
      const token = await mfaToken(account);
      const before = await sessionCount();
      const totp = await authenticatorCode(secret, clock);
      const sameToken = await Promise.all([complete(token, totp), complete(token, recoveryCodes[trial]!)]);
      expect(sameToken.filter((response) => !response.errors)).toHaveLength(1);
      for (const refused of sameToken.filter((response) => response.errors))
        expectCodes(refused, ["INVALID_MFA_TOKEN"]);
      expect(await sessionCount()).toBe(before + 1);
    }
  });
});

describe("recovery codes and turning MFA off", () => {
  it("regenerates recovery codes for a current code: the old ones stop working", async () => {
    const { account, accessToken, secret, recoveryCodes } = await registerWithMfa();
    expectCodes(await request(mfaDocuments.regenerate, { code: "123456" }, accessToken), ["INVALID_MFA_CODE"]);
    const fresh = await request(mfaDocuments.regenerate, { code: await authenticatorCode(secret, clock) }, accessToken);
    expect(fresh.errors).toBeUndefined();
    const codes: string[] = fresh.data!.regenerateRecoveryCodes;
    expect(codes).toHaveLength(10);
    expect(codes.some((code) => recoveryCodes.includes(code))).toBe(false);
    expectCodes(await complete(await mfaToken(account), recoveryCodes[1]!), ["INVALID_MFA_CODE"]);
    expect((await complete(await mfaToken(account), codes[0]!)).errors).toBeUndefined();
  });

  it("turns off with the password and a code, both; the other sessions end and logins no longer ask for a code", async () => {
    const { account, accessToken, secret, recoveryCodes } = await registerWithMfa();
    const other = (await complete(await mfaToken(account), recoveryCodes[0]!)).data!.completeLogin;

    expectCodes(
      await request(
        mfaDocuments.disable,
        { currentPassword: "wrong password", code: await authenticatorCode(secret, clock) },
        accessToken,
      ),
      ["INVALID_CREDENTIALS"],
    );
    expectCodes(
      await request(mfaDocuments.disable, { currentPassword: account.password, code: "654321" }, accessToken),
      ["INVALID_MFA_CODE"],
    );
    expectCodes(await request(mfaDocuments.disable, { currentPassword: account.password, code: "" }, accessToken), [
      "INVALID_MFA_CODE",
    ]);
    // Refused attempts changed nothing.
    expect((await request(mutations.me, {}, other.accessToken)).errors).toBeUndefined();
    expect((await request(mfaDocuments.totpEnabled, {}, accessToken)).data!.me.totpEnabled).toBe(true);
    expect(await mailSubjects(account.email)).not.toContain("Two-factor authentication is off");

    const disabled = await request(
      mfaDocuments.disable,
      { currentPassword: account.password, code: await authenticatorCode(secret, clock) },
      accessToken,
    );
    expect(disabled.errors).toBeUndefined();
    expect(disabled.data!.disableTotp).toBe(true);
    expect(await mailSubjects(account.email)).toContain("Two-factor authentication is off");

    expectCodes(await request(mutations.me, {}, other.accessToken), ["UNAUTHENTICATED"]);
    expect((await request(mutations.me, {}, accessToken)).errors).toBeUndefined();
    expect((await request(mfaDocuments.totpEnabled, {}, accessToken)).data!.me.totpEnabled).toBe(false);
    expect((await login(account)).errors).toBeUndefined();
    expectCodes(await request(mfaDocuments.regenerate, { code: recoveryCodes[2]! }, accessToken), ["INVALID_MFA_CODE"]);
  });
});

describe("the security log", () => {
  it("records MFA turned on and off, refused codes and logins completed with a code", async () => {
    const { account, accessToken, secret, userId } = await registerWithMfa();
    const wrong = (await authenticatorCode(secret, clock)) === "000000" ? "111111" : "000000";
    expectCodes(await complete(await mfaToken(account), wrong), ["INVALID_MFA_CODE"]);
    expect((await complete(await mfaToken(account), await authenticatorCode(secret, clock))).errors).toBeUndefined();
    nextStep();
    const disabled = await request(
      mfaDocuments.disable,
      { currentPassword: account.password, code: await authenticatorCode(secret, clock) },
      accessToken,
    );
    expect(disabled.errors).toBeUndefined();

    const log = await request(`{ securityEvents(first: 50) { edges { node { kind actorId } } } }`, {}, accessToken);
    expect(log.errors).toBeUndefined();
    const events = (log.data!.securityEvents.edges as { node: { kind: string; actorId: string | null } }[])
      .map(({ node }) => node)
      .reverse();
    const kinds = events.map((event) => event.kind);
    const order = ["mfa_enabled", "login_failed", "login_succeeded", "mfa_disabled"].map((kind) =>
      kinds.lastIndexOf(kind),
    );
    expect(order.every((position) => position >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(events.find((event) => event.kind === "mfa_enabled")?.actorId).toBe(userId);
    expect(events.find((event) => event.kind === "mfa_disabled")?.actorId).toBe(userId);
    expect(events.find((event) => event.kind === "login_failed")?.actorId).toBeNull();
  });
});

describe("secrets at rest", () => {
  it("stores the TOTP secret only sealed, under the current key id; recovery codes and mfaTokens only hashed", async () => {
    const { account, userId, secret, recoveryCodes } = await registerWithMfa();
    const token = await mfaToken(account);
    const [factor] = await query<{ secret_ciphertext: string; secret_key_id: string }>(
      `SELECT * FROM totp_factors WHERE user_id = $1`,
      [userId],
    );
    expect(factor!.secret_key_id).toBe(testEncryptionKeys.currentKeyId);
    const sealed = Buffer.from(factor!.secret_ciphertext, "base64url");
    expect(sealed.length).toBeGreaterThanOrEqual(12 + secret.length + 16);
    expect(factor!.secret_ciphertext).not.toContain(secret);
    expect(sealed.includes(Buffer.from(secret))).toBe(false);

    // Nothing in the tables MFA writes holds a secret, a code or a token as it was handed out.
    const dump = JSON.stringify(
      await query(
        `SELECT (SELECT json_agg(t) FROM totp_factors t) AS f, (SELECT json_agg(r) FROM recovery_codes r) AS r, (SELECT json_agg(c) FROM mfa_challenges c) AS c`,
      ),
    );
    for (const value of [secret, token, ...recoveryCodes, ...recoveryCodes.map((code) => code.replaceAll("-", ""))]) {
      expect(dump).not.toContain(value);
    }
  });

  it("never opens a sealed secret on another account's row", async () => {
    const alice = await registerWithMfa();
    const bob = await registerWithMfa();
    // Someone with write access to the database copies Alice's sealed secret onto Bob's row.
    await query(
      `UPDATE totp_factors SET secret_ciphertext = (SELECT secret_ciphertext FROM totp_factors WHERE user_id = $1) WHERE user_id = $2`,
      [alice.userId, bob.userId],
    );
    const response = await complete(await mfaToken(bob.account), await authenticatorCode(alice.secret, clock));
    expect(response.data).toBeNull();
    expectCodes(response, ["INTERNAL_SERVER_ERROR"]);
  });
});

describe("on a Redis Cluster", () => {
  // Redis expires the code counters on its own clock: this server's clock is today's and stays
  // within one window.
  const clusterClock = new ManualClock(new Date());
  const clusterServer = useTestServer({ clock: clusterClock, store: "cluster" });
  const onCluster = mfaClient(clusterServer, clusterClock);

  it("completes logins with a code and a recovery code; concurrent wrong codes are limited per account, exactly", async () => {
    const { account, secret, userId, recoveryCodes } = await onCluster.registerWithMfa();
    const withCode = await onCluster.complete(
      await onCluster.mfaToken(account),
      await authenticatorCode(secret, clusterClock),
    );
    expect(withCode.errors).toBeUndefined();
    const me = await onCluster.request(mutations.me, {}, withCode.data!.completeLogin.accessToken);
    expect(me.data!.me.id).toBe(userId);
    const withRecoveryCode = await onCluster.complete(await onCluster.mfaToken(account), recoveryCodes[0]!);
    expect(withRecoveryCode.errors).toBeUndefined();

    // The confirming code and the two above counted: the rest of the window goes to 30 guesses at once.
    const tokens = await Promise.all(Array.from({ length: 30 }, () => onCluster.mfaToken(account)));
    const guesses = await Promise.all(tokens.map((token) => onCluster.complete(token, "000000")));
    const codes = guesses.map((response) => errorCodes(response)[0]);
    expect(codes.filter((code) => code === "INVALID_MFA_CODE")).toHaveLength(codeAttemptsPerWindow - 3);
    expect(codes.filter((code) => code === "RATE_LIMITED")).toHaveLength(30 - (codeAttemptsPerWindow - 3));
  });
});
