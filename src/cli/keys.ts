// Prints a fresh private JWK set for JWT_PRIVATE_KEYS: `npm run keys` (or `node dist/cli/keys.js`).
// `--alg EdDSA` makes an Ed25519 key instead of the default P-256 (ES256), which every common
// verifier accepts. To rotate, put the new key first and keep the old one after it for a while.
import { exportPrivateJwks, generateSigningKey, type SigningAlgorithm } from "../auth/signing-keys.js";

const algorithms: SigningAlgorithm[] = ["ES256", "EdDSA"];
const flag = process.argv.indexOf("--alg");
const alg = (flag === -1 ? "ES256" : process.argv[flag + 1]) as SigningAlgorithm;
if (!algorithms.includes(alg)) {
  console.error(`--alg must be one of ${algorithms.join(", ")}`);
  process.exit(1);
}
// One line, ready to be an environment variable's value.
console.log(await exportPrivateJwks([await generateSigningKey(alg)], 0));
