import { createArgon2Hasher } from "../../src/auth/password-hasher.js";
import { ms, round, type Bench } from "../bench.js";
import { percentile } from "../load.js";
import { passkeySignInMilliseconds } from "../passkeys.js";
import type { Figure } from "../report.js";

/** One argon2id hash with the production parameters, in this process: each sample's milliseconds, sorted. */
async function hashMilliseconds(samples: number): Promise<number[]> {
  const hasher = createArgon2Hasher();
  const durations: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await hasher.hash(`correct horse battery staple ${i}`);
    durations.push(performance.now() - started);
  }
  return durations.sort((a, b) => a - b);
}

/** A login's p50 on one connection against one hash's, a passkey sign-in's and better-auth's sign-in. */
export async function loginFigures(bench: Bench): Promise<Figure[]> {
  const { plan, peer } = bench;
  const hashes = await hashMilliseconds(plan.hashSamples);
  const logins = await bench.driveSubgraph({ calls: bench.calls.login, connections: 1, durationSeconds: plan.latency });
  const signIns =
    peer &&
    (await bench.drivePeer({
      calls: bench.peerUsers.map(bench.peerRequest.signIn),
      connections: 1,
      durationSeconds: plan.latency,
    }));
  bench.log("passkey sign-in latency, on one connection as the logins above");
  const passkeySignIns = await passkeySignInMilliseconds(bench.subgraph.url, bench.users.at(-1)!, plan.passkeySignIns);
  bench.requests.subgraph += 2 + 2 * passkeySignIns.length;
  const loginP50 = percentile(logins.latenciesMs, 50);
  const hashP50 = percentile(hashes, 50);
  const passkeyP50 = percentile(passkeySignIns, 50);
  const figures: Figure[] = [
    {
      id: "loginHashRatio",
      label: "login p50 ÷ argon2id hash p50",
      value: round(loginP50 / hashP50),
      goal: { comparison: "≤", target: 1.3 },
      basis: `${ms(loginP50)} / ${ms(hashP50)}`,
    },
    {
      id: "passkeySignInRatio",
      label: "passkey sign-in p50 ÷ password login p50",
      value: round(passkeyP50 / loginP50),
      goal: { comparison: "≤", target: 0.5 },
      basis: `${ms(passkeyP50)} (begin + finish) / ${ms(loginP50)}, ${passkeySignIns.length} sign-ins`,
    },
  ];
  if (signIns) {
    const signInP50 = percentile(signIns.latenciesMs, 50);
    figures.push({
      id: "loginLatencyVsPeer",
      label: "login p50 ÷ better-auth sign-in p50",
      value: round(loginP50 / signInP50),
      goal: { comparison: "≤", target: 1 },
      basis: `${ms(loginP50)} / ${ms(signInP50)}, 1 connection`,
    });
  }
  return figures;
}
