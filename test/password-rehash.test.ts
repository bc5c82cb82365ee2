import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createArgon2Hasher, defaultHashingConcurrency, type Argon2Parameters } from "../src/auth/password-hasher.js";
import { logIn, signUp } from "./helpers/accounts.js";
import { useTestDatabase } from "./helpers/database.js";
import { errorCodes, sessionMutations } from "../harness/graphql.js";
import { mfaDocuments } from "./helpers/mfa.js";
import { fastHasher, startTestServer, type TestServer } from "./helpers/server.js";

// Three deployments of one database, each hashing with other (cheap) parameters: the fast hasher's,
// then a later configuration with more memory, then one with more passes.
const older: Argon2Parameters = { memoryCost: 64, timeCost: 1, parallelism: 1 };
const newer: Argon2Parameters = { memoryCost: 128, timeCost: 1, parallelism: 1 };
const newest: Argon2Parameters = { memoryCost: 64, timeCost: 2, parallelism: 1 };
const prefix = ({ memoryCost, timeCost, parallelism }: Argon2Parameters) =>
  `$argon2id$v=19$m=${memoryCost},t=${timeCost},p=${parallelism}$`;
const hasherWith = (parameters: Argon2Parameters) => createArgon2Hasher(parameters, defaultHashingConcurrency, {});

const database = useTestDatabase();
let before: TestServer;
let after: TestServer;
let later: TestServer;
beforeAll(async () => {
  before = await startTestServer({ databaseUrl: database().url, hasher: fastHasher });
  after = await startTestServer({
    databaseUrl: database().url,
    hasher: hasherWith(newer),
    signingKeys: before.signingKeys,
  });
  later = await startTestServer({
    databaseUrl: database().url,
    hasher: hasherWith(newest),
    signingKeys: before.signingKeys,
  });
});
afterAll(() => Promise.all([before, after, later].map((server) => server?.close())));

async function storedHash(userId: string): Promise<string> {
  const { passwordHash } = await before.database.user.findUniqueOrThrow({
    where: { id: userId },
    select: { passwordHash: true },
  });
  if (passwordHash === null) throw new Error("the account has no password");
  return passwordHash;
}

describe("a stored hash made with older argon2id parameters", () => {
  it("is replaced on the next successful login, not on a failed one; the sessions go on", async () => {
    const user = await signUp(before);
    const original = await storedHash(user.id);
    expect(original.startsWith(prefix(older))).toBe(true);

    expect(errorCodes(await logIn(after, { ...user.account, password: `${user.account.password}!` }))).toEqual([
      "INVALID_CREDENTIALS",
    ]);
    expect(await storedHash(user.id)).toBe(original);

    expect((await logIn(after, user.account)).errors).toBeUndefined();
    const upgraded = await storedHash(user.id);
    expect(upgraded.startsWith(prefix(newer))).toBe(true);
    expect(await hasherWith(newer).verify(upgraded, user.account.password)).toBe(true);

    // Current now: the next login leaves it as it is.
    expect((await logIn(after, user.account)).errors).toBeUndefined();
    expect(await storedHash(user.id)).toBe(upgraded);
    // Not a credential change: the session registration started still refreshes.
    expect((await after.request(sessionMutations.refresh, { refreshToken: user.refreshToken })).errors).toBeUndefined();
  });

  it("is replaced by a successful current-password check too, not by a failed one", async () => {
    const user = await signUp(before);
    const original = await storedHash(user.id);
    const enroll = (currentPassword: string) =>
      later.request(mfaDocuments.enroll, { currentPassword }, { token: user.accessToken });

    expect(errorCodes(await enroll(`${user.account.password}!`))).toEqual(["INVALID_CREDENTIALS"]);
    expect(await storedHash(user.id)).toBe(original);
    expect((await enroll(user.account.password)).errors).toBeUndefined();
    expect((await storedHash(user.id)).startsWith(prefix(newest))).toBe(true);
  });

  it("never overwrites a password changed while logins upgrade the old one (10 trials × 20 logins)", async () => {
    for (let trial = 0; trial < 10; trial++) {
      const user = await signUp(before);
      const newPassword = `${user.account.password} changed`;
      // Logins spread over the change, so that some check the old password before it commits and upgrade after.
      const [changed, ...logins] = await Promise.all([
        after.request(
          sessionMutations.changePassword,
          { currentPassword: user.account.password, newPassword },
          { token: user.accessToken },
        ),
        ...Array.from({ length: 20 }, (_, index) => sleep(index).then(() => logIn(after, user.account))),
      ]);
      expect(changed!.errors, JSON.stringify(changed!.errors)).toBeUndefined();
      for (const login of logins) expect(["INVALID_CREDENTIALS", undefined]).toContain(errorCodes(login)[0]);
      // Whatever order they ran in, the new password is the password, hashed with the current parameters.
      const stored = await storedHash(user.id);
      expect(await hasherWith(newer).verify(stored, newPassword)).toBe(true);
      expect(await hasherWith(newer).verify(stored, user.account.password)).toBe(false);
      expect(errorCodes(await logIn(after, user.account))).toEqual(["INVALID_CREDENTIALS"]);
      expect((await logIn(after, { ...user.account, password: newPassword })).errors).toBeUndefined();
    }
  });
});
