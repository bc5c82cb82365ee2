import { setTimeout as sleep } from "node:timers/promises";
import { graphql } from "../../harness/graphql.js";
import { ms, round, type Bench } from "../bench.js";
import { percentile } from "../load.js";
import type { Figure } from "../report.js";

const requestPasswordReset = `mutation($email: String!) { requestPasswordReset(email: $email) }`;

/**
 * requestPasswordReset latencies for known and unknown addresses, alternating on one client so
 * both see the same machine. A pause after each request lets a known address's mail (sent after
 * the answer) finish, so it does not slow the next request down: the figure is what one probe sees.
 */
async function resetRequestMilliseconds(
  url: string,
  knownEmails: string[],
  pairs: number,
): Promise<{ known: number[]; unknown: number[] }> {
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const pair: [string, number[]][] = [
      [knownEmails[i % knownEmails.length]!, known],
      [`nobody-${i}-${process.pid}@bench.example.com`, unknown],
    ];
    // Alternate which goes first, so neither always follows the other.
    for (const [email, durations] of i % 2 === 0 ? pair : pair.reverse()) {
      const started = performance.now();
      const response = await graphql(url, requestPasswordReset, { email });
      durations.push(performance.now() - started);
      if (response.errors || response.data?.requestPasswordReset !== true) {
        throw new Error(`requestPasswordReset failed: ${JSON.stringify(response.errors)}`);
      }
      await sleep(10);
    }
  }
  return { known: known.sort((a, b) => a - b), unknown: unknown.sort((a, b) => a - b) };
}

/** Whether requestPasswordReset's timing tells a known address from an unknown one. */
export async function passwordResetFigures(bench: Bench): Promise<Figure[]> {
  const pairs = bench.plan.resetPairs;
  const resets = await resetRequestMilliseconds(
    bench.subgraph.url,
    bench.users.map((user) => user.email),
    pairs,
  );
  bench.requests.subgraph += resets.known.length + resets.unknown.length;
  const [unknownP50, knownP50] = [percentile(resets.unknown, 50), percentile(resets.known, 50)];
  return [
    {
      id: "passwordResetTimingRatio",
      label: "requestPasswordReset unknown ÷ known, p50",
      value: round(unknownP50 / knownP50),
      goal: { comparison: "≈", target: 1, tolerance: 0.1 },
      basis: `${ms(unknownP50)} / ${ms(knownP50)}, ${pairs} of each`,
    },
  ];
}
