import { describe, expect, it } from "vitest";
import { createArgon2Hasher, owaspArgon2id } from "../src/auth/password-hasher.js";

// The only test that pays for the production parameters; everything else uses a cheap hasher.
describe("argon2id with the production parameters", () => {
  const hasher = createArgon2Hasher();

  it("hashes with OWASP's parameters (19 MiB, t=2, p=1) and verifies", async () => {
    expect(owaspArgon2id).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const hash = await hasher.hash("correct horse battery staple");
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(hash, "correct horse battery staple")).toBe(true);
    expect(await hasher.verify(hash, "correct horse battery stapler")).toBe(false);
  });

  it("salts every hash and never matches a malformed one", async () => {
    const [first, second] = await Promise.all([hasher.hash("same password"), hasher.hash("same password")]);
    expect(first).not.toBe(second);
    expect(await hasher.verify("not-a-hash", "same password")).toBe(false);
  });

  it("keeps one dummy hash with the same parameters for unknown users", async () => {
    const dummy = await hasher.dummyHash();
    expect(dummy).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.dummyHash()).toBe(dummy);
  });
});
