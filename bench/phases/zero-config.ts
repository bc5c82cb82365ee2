import { round } from "../bench.js";
import { timeZeroConfigStart } from "../processes.js";
import type { Figure } from "../report.js";

/** How long `npm start` takes to be ready with no configuration at all: a fresh DATA_DIR, the embedded PostgreSQL. */
export async function zeroConfigFigures(): Promise<Figure[]> {
  const seconds = await timeZeroConfigStart();
  return [
    {
      id: "zeroConfigStartSeconds",
      label: "zero-config `npm start` → ready, s",
      value: round(seconds),
      goal: { comparison: "≤", target: 5 },
      basis: "fresh DATA_DIR, embedded PostgreSQL",
    },
  ];
}
