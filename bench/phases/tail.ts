import { ms, round, type Bench } from "../bench.js";
import { percentile } from "../load.js";
import type { Figure } from "../report.js";

/** A steady `me` rate well below capacity, so that its p99 shows interference rather than queueing. */
const tailRate = 300;
const stormConnections = 8;

/**
 * `me`'s p99 at rest and during a login storm, in alternating rounds; the median round's ratio, so
 * that a burst of other work on the machine spoils one round, not the figure.
 */
export async function tailFigures(bench: Bench): Promise<Figure[]> {
  const { plan } = bench;
  const steadyMe = { calls: bench.calls.me, connections: 2, rate: tailRate, durationSeconds: plan.tail };
  const rounds = [];
  for (let i = 0; i < plan.tailRounds; i++) {
    const idle = percentile((await bench.driveSubgraph(steadyMe)).latenciesMs, 99);
    const [meStorm, storm] = await Promise.all([
      bench.driveSubgraph(steadyMe),
      bench.driveSubgraph({ calls: bench.calls.login, connections: stormConnections, durationSeconds: plan.tail }),
    ]);
    const inStorm = percentile(meStorm.latenciesMs, 99);
    rounds.push({ idle, inStorm, ratio: inStorm / idle, loginsPerSecond: storm.requestsPerSecond });
  }
  const tail = rounds.sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
  return [
    {
      id: "meStormTailRatio",
      label: "`me` p99 in a login storm ÷ idle",
      value: round(tail.ratio),
      goal: { comparison: "≤", target: 3 },
      basis: `${ms(tail.inStorm)} / ${ms(tail.idle)}, ${Math.round(tail.loginsPerSecond)} logins/s`,
    },
  ];
}
