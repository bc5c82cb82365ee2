// `npm run bench [-- --quick] [-- --peers]`: the users subgraph against the framework ceiling (and
// with --peers against better-auth), side by side in one run, because on a shared machine only
// ratios measured together mean anything. `-- --fleet`: one, two and three instances instead.
import { availableParallelism } from "node:os";
import path from "node:path";
import { projectRoot } from "../harness/process.js";
import { round, startBench, type Bench } from "./bench.js";
import { peerDescription, peerSessionStore } from "./peer.js";
import { entitiesFigures } from "./phases/entities.js";
import { hardeningFigures } from "./phases/hardening.js";
import { loginFigures } from "./phases/login.js";
import { memoryFigures, residentAfterRequests, rssAfterRequests } from "./phases/memory.js";
import { outboxFigures } from "./phases/outbox.js";
import { passwordResetFigures } from "./phases/password-reset.js";
import { peerWriteFigures } from "./phases/peer-writes.js";
import { tailFigures } from "./phases/tail.js";
import { throughputFigures } from "./phases/throughput.js";
import { zeroConfigFigures } from "./phases/zero-config.js";
import { runFleet } from "./fleet.js";
import { formatTable, toRows, writeResults, type Figure } from "./report.js";

const quick = process.argv.includes("--quick");
const peers = process.argv.includes("--peers");

/** The table's rows, in this order whatever order the phases ran in. */
const rowOrder = [
  "meThroughputRatio",
  "entitiesSqlQueries",
  "entitiesLatencyRatio",
  "loginHashRatio",
  "passkeySignInRatio",
  "meStormTailRatio",
  "passwordResetTimingRatio",
  "zeroConfigStartSeconds",
  "rssMegabytes",
  "amplificationServerMs",
  "fragmentWalkServerMs",
  "entityListServerMs",
  "amplificationRssGrowth",
  "loginDuringRegistrationsMs",
  "meHangingWebhookTailRatio",
  "meHungMailTailRatio",
  "meVsPeer",
  "loginVsPeer",
  "loginLatencyVsPeer",
  "registerVsPeer",
  "rssVsPeer",
  "rssAtEndVsPeer",
];

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** Every phase on the running servers, in the order that keeps each from disturbing the next; their figures. */
async function measure(bench: Bench): Promise<Figure[]> {
  const { peer } = bench;
  log(`RSS after ${rssAfterRequests} requests`);
  const early = await residentAfterRequests(bench);
  log(`me throughput against the ceiling${peer ? " and get-session" : ""}`);
  const figures = await throughputFigures(bench);
  log("_entities: SQL statements and latency");
  figures.push(...(await entitiesFigures(bench)));
  log(`login latency against one argon2id hash${peer ? " and sign-in's" : ""}`);
  figures.push(...(await loginFigures(bench)));
  log("me p99, idle and during a login storm");
  figures.push(...(await tailFigures(bench)));
  log("requestPasswordReset: unknown addresses against known ones");
  figures.push(...(await passwordResetFigures(bench)));
  if (peer) {
    log("login against sign-in, register against sign-up");
    figures.push(...(await peerWriteFigures(bench)));
  }
  figures.push(...(await hardeningFigures(bench)));
  log("me p99 while a webhook receiver hangs, and while the mail server hangs (a subgraph of their own)");
  figures.push(...(await outboxFigures(bench)));
  figures.push(...(await memoryFigures(bench, early)));
  return figures;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const started = performance.now();
  const stops: (() => Promise<void>)[] = [];
  try {
    log("timing a zero-configuration npm start");
    const zeroConfig = await zeroConfigFigures();
    const bench = await startBench(quick, peers, stops, log);
    const figures = [...zeroConfig, ...(await measure(bench))];
    const rows = toRows(figures.sort((a, b) => rowOrder.indexOf(a.id) - rowOrder.indexOf(b.id)));
    const seconds = round((performance.now() - started) / 1000, 1);
    const file = await writeResults(path.join(projectRoot, "bench", "results"), {
      startedAt,
      quick,
      seconds,
      machine: { cpus: availableParallelism(), node: process.version },
      database: process.env.DATABASE_URL ? "DATABASE_URL" : "embedded PostgreSQL",
      revocationStore: process.env.REDIS_URL ? "REDIS_URL" : "in-process",
      ...(bench.peer ? { peer: await peerDescription(), peerSessionStore: peerSessionStore() } : {}),
      rows,
    });
    console.log(formatTable(rows));
    if (bench.peer) console.log(`\npeer: ${await peerDescription()}`);
    console.log(`\n${quick ? "quick run" : "run"} took ${seconds} s; results in ${path.relative(projectRoot, file)}`);
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

if (process.argv.includes("--fleet")) await runFleet(quick, log);
else await main();
