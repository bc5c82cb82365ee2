import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseSigningKeys } from "../src/auth/signing-keys.js";
import { loadConfig } from "../src/config/config.js";
import { run } from "../harness/process.js";

describe("making JWT_PRIVATE_KEYS", () => {
  it("npm run keys prints a fresh ES256 JWK set on one line; --alg EdDSA an Ed25519 one", async () => {
    const [es256, eddsa] = await Promise.all([
      run("npm", ["run", "-s", "keys"]),
      run("npm", ["run", "-s", "keys", "--", "--alg", "EdDSA"]),
    ]);
    for (const [result, alg] of [
      [es256, "ES256"],
      [eddsa, "EdDSA"],
    ] as const) {
      expect(result.code, result.output).toBe(0);
      const text = result.output.trim();
      expect(text.split("\n")).toHaveLength(1);
      expect(loadConfig({ JWT_PRIVATE_KEYS: text }).jwt.privateKeys).toBe(text);
      const keys = await parseSigningKeys(text);
      expect(keys.signing.alg).toBe(alg);
      expect(keys.jwks.keys[0]!.d).toBeUndefined();
    }
    const again = await run("npm", ["run", "-s", "keys"]);
    expect(again.output).not.toBe(es256.output);
  });

  it("takes the README's openssl recipe for a P-256 key", async () => {
    const { stdout: pem } = await promisify(execFile)("openssl", [
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
    ]);
    expect(loadConfig({ JWT_PRIVATE_KEYS: pem }).jwt.privateKeys).toBe(pem.trim());
    expect((await parseSigningKeys(pem)).signing.alg).toBe("ES256");
  });
});
