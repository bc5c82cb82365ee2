import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  EncryptionKeyError,
  EncryptionKeys,
  loadOrCreateDevelopmentEncryptionKeys,
} from "../src/auth/encryption-keys.js";
import { ManualClock } from "./helpers/clock.js";
import { useTestDatabase } from "./helpers/database.js";
import { mutations } from "../harness/graphql.js";
import { authenticatorCode, expectCodes, mfaClient } from "./helpers/mfa.js";
import { run } from "../harness/process.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

describe("ENCRYPTION_KEYS", () => {
  const oldKey = EncryptionKeys.generate("old");
  const newKey = EncryptionKeys.generate("new");

  it("seals with the first key and opens with any listed one", () => {
    const before = EncryptionKeys.parse(oldKey);
    const sealed = before.seal("JBSWY3DPEHPK3PXP", "context-a");
    expect(sealed.keyId).toBe("old");
    expect(sealed.ciphertext).not.toContain("JBSWY3DPEHPK3PXP");
    // Same plaintext, new nonce: ciphertexts never repeat.
    expect(before.seal("JBSWY3DPEHPK3PXP", "context-a").ciphertext).not.toBe(sealed.ciphertext);

    const rotated = EncryptionKeys.parse(`${newKey},\n${oldKey}`);
    expect(rotated.currentKeyId).toBe("new");
    expect(rotated.keyIds).toEqual(["new", "old"]);
    expect(rotated.open(sealed, "context-a")).toBe("JBSWY3DPEHPK3PXP");
    expect(rotated.seal("x", "context-a").keyId).toBe("new");
  });

  it("refuses to open with a missing key, another context, or altered bytes, naming the key", () => {
    const keys = EncryptionKeys.parse(oldKey);
    const sealed = keys.seal("secret", "context-a");
    expect(() => EncryptionKeys.parse(newKey).open(sealed, "context-a")).toThrow(
      /encryption key old, which ENCRYPTION_KEYS no longer lists/,
    );
    expect(() => keys.open(sealed, "context-b")).toThrow(EncryptionKeyError);
    const bytes = Buffer.from(sealed.ciphertext, "base64url");
    bytes[14]! ^= 1;
    expect(() => keys.open({ ...sealed, ciphertext: bytes.toString("base64url") }, "context-a")).toThrow(
      EncryptionKeyError,
    );
    expect(() => keys.open({ ...sealed, ciphertext: "c2hvcnQ" }, "context-a")).toThrow(EncryptionKeyError);
  });

  it("refuses malformed settings: no key, a short key, a bad id, a repeated id", () => {
    const short = `k:${Buffer.alloc(16).toString("base64")}`;
    for (const text of [
      "",
      "   ",
      "no-separator",
      short,
      `bad id!:${Buffer.alloc(32).toString("base64")}`,
      `${oldKey},${oldKey}`,
    ]) {
      expect(() => EncryptionKeys.parse(text), text).toThrow(EncryptionKeyError);
    }
  });

  it("generates a development key once under DATA_DIR, owner-only, and keeps it", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "encryption-keys-"));
    try {
      const first = await loadOrCreateDevelopmentEncryptionKeys(dataDir);
      const file = path.join(dataDir, "encryption-keys");
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const again = await loadOrCreateDevelopmentEncryptionKeys(dataDir);
      expect(again.keyIds).toEqual(first.keyIds);
      expect(again.open(first.seal("kept", "c"), "c")).toBe("kept");
      expect(await readFile(file, "utf8")).toMatch(/^development:/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("rotating ENCRYPTION_KEYS with stored secrets", () => {
  const database = useTestDatabase();
  const clock = new ManualClock(new Date("2026-11-25T12:00:00.000Z"));
  const oldKeys = EncryptionKeys.generate("2026-01");
  const newKeys = EncryptionKeys.generate("2026-06");
  const servers: TestServer[] = [];
  let current: TestServer | undefined;
  afterAll(() => Promise.all(servers.map((server) => server.close())));

  async function serveWith(keys: string): Promise<TestServer> {
    const server = await startTestServer({
      databaseUrl: database().url,
      clock,
      encryptionKeys: EncryptionKeys.parse(keys),
    });
    servers.push(server);
    current = server;
    return server;
  }
  const client = mfaClient(() => current!, clock);
  const reencrypt = (keys: string) =>
    run("node", ["--import", "tsx", "src/cli/reencrypt.ts"], { DATABASE_URL: database().url, ENCRYPTION_KEYS: keys });
  const keyIdsInUse = async () =>
    (await current!.database.totpFactor.findMany({ select: { secretKeyId: true }, distinct: ["secretKeyId"] })).map(
      (row) => row.secretKeyId,
    );

  it("keeps MFA working through rotation and re-encryption; removing the old key first fails clearly", async () => {
    await serveWith(oldKeys);
    const enabled = await Promise.all([client.registerWithMfa(), client.registerWithMfa()]);
    expect(await keyIdsInUse()).toEqual(["2026-01"]);

    // The new key alone, before re-encryption: the server refuses to start, naming the key and the fix.
    await expect(serveWith(newKeys)).rejects.toThrow(/lacks key 2026-01 \(2 secrets\).*re-encryption/);
    const refused = await reencrypt(newKeys);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/lacks key 2026-01 \(2 secrets\)/);
    expect(await keyIdsInUse()).toEqual(["2026-01"]);

    // Both keys, newest first: old secrets still open, new enrolments use the new key.
    await serveWith(`${newKeys},${oldKeys}`);
    const [alice, bob] = enabled;
    expect(
      (await client.complete(await client.mfaToken(alice!.account), await authenticatorCode(alice!.secret, clock)))
        .errors,
    ).toBeUndefined();
    const carol = await client.registerWithMfa();
    expect((await keyIdsInUse()).sort()).toEqual(["2026-01", "2026-06"]);

    const reencrypted = await reencrypt(`${newKeys},${oldKeys}`);
    expect(reencrypted.output).toContain("Re-encrypted 2 secrets with key 2026-06.");
    expect(reencrypted.code).toBe(0);
    expect(await keyIdsInUse()).toEqual(["2026-06"]);

    // The old key can now go: every account's codes still work, and MFA is still on for each.
    await serveWith(newKeys);
    client.nextStep();
    for (const user of [alice!, bob!, carol]) {
      const completed = await client.complete(
        await client.mfaToken(user.account),
        await authenticatorCode(user.secret, clock),
      );
      expect(completed.errors).toBeUndefined();
      expect(completed.data!.completeLogin.user.totpEnabled).toBe(true);
    }
    expectCodes(await client.login(bob!.account), ["MFA_REQUIRED"]);
    expect((await client.request(mutations.me, {}, (await client.register()).accessToken)).errors).toBeUndefined();
  }, 60_000);
});
