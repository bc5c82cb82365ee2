import { bestOfAlternatingRounds, round, throughputConnections, type Bench } from "../bench.js";
import type { Figure } from "../report.js";

/** `me` against the framework ceiling (the same requests, bearer tokens included), and against better-auth's get-session. */
export async function throughputFigures(bench: Bench): Promise<Figure[]> {
  const { plan, peer } = bench;
  const me = { calls: bench.calls.me, connections: throughputConnections };
  const getSession = { calls: bench.calls.getSession, connections: throughputConnections };
  await bench.driveCeiling({ ...me, durationSeconds: plan.warmup });
  await bench.driveSubgraph({ ...me, durationSeconds: plan.warmup });
  if (peer) await bench.drivePeer({ ...getSession, durationSeconds: plan.warmup });
  const [ceilingRps = 0, meRps = 0, getSessionRps = 0] = await bestOfAlternatingRounds(
    plan.throughputRounds,
    () => bench.driveCeiling({ ...me, durationSeconds: plan.throughput }),
    () => bench.driveSubgraph({ ...me, durationSeconds: plan.throughput }),
    ...(peer ? [() => bench.drivePeer({ ...getSession, durationSeconds: plan.throughput })] : []),
  );
  const figures: Figure[] = [
    {
      id: "meThroughputRatio",
      label: "`me` req/s ÷ ceiling req/s",
      value: round(meRps / ceilingRps),
      goal: { comparison: "≥", target: 0.5 },
      basis: `${Math.round(meRps)} / ${Math.round(ceilingRps)} req/s`,
    },
  ];
  if (peer) {
    figures.push({
      id: "meVsPeer",
      label: "`me` req/s ÷ better-auth get-session req/s",
      value: round(meRps / getSessionRps),
      goal: { comparison: "≥", target: 3 },
      basis: `${Math.round(meRps)} / ${Math.round(getSessionRps)} req/s, ${throughputConnections} connections`,
    });
  }
  return figures;
}
