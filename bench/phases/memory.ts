import { setTimeout as sleep } from "node:timers/promises";
import { round, throughputConnections, type Bench } from "../bench.js";
import { residentMegabytes } from "../processes.js";
import type { Figure } from "../report.js";

export const rssAfterRequests = 10_000;
/** Idle time before the last RSS: longer than a hashing thread lives without work. */
const settleSeconds = 10;

export interface EarlyResidence {
  rss: number;
  peerRss: number;
  /** The subgraph's requests by then. */
  requests: number;
}

/**
 * RSS once each server has answered 10 000 requests (`me`, get-session), both driven at once:
 * memory depends on what a server was asked, not on how fast.
 */
export async function residentAfterRequests(bench: Bench): Promise<EarlyResidence> {
  const { subgraph, peer, requests } = bench;
  const [rss, peerRss = 0] = await Promise.all([
    bench
      .driveSubgraph({
        calls: bench.calls.me,
        connections: throughputConnections,
        amount: rssAfterRequests - requests.subgraph,
      })
      .then(() => residentMegabytes(subgraph.process.child.pid!)),
    ...(peer
      ? [
          bench
            .drivePeer({
              calls: bench.calls.getSession,
              connections: throughputConnections,
              amount: rssAfterRequests - requests.peer,
            })
            .then(() => residentMegabytes(peer.process.child.pid!)),
        ]
      : []),
  ]);
  return { rss, peerRss, requests: requests.subgraph };
}

/** The memory figures, last: what each server keeps once the load has stopped, at once and once idle a while. */
export async function memoryFigures(bench: Bench, early: EarlyResidence): Promise<Figure[]> {
  const { subgraph, peer, requests } = bench;
  await sleep(1000);
  const rssAtStop = await residentMegabytes(subgraph.process.child.pid!);
  const peerRssAtStop = peer && (await residentMegabytes(peer.process.child.pid!));
  await sleep(bench.quick ? 0 : settleSeconds * 1000);
  const rssAtEnd = await residentMegabytes(subgraph.process.child.pid!);
  const figures: Figure[] = [
    {
      id: "rssMegabytes",
      label: `RSS after ${rssAfterRequests.toLocaleString("en-US")} requests, MB`,
      value: round(early.rss, 1),
      goal: { comparison: "≤", target: 150 },
      basis: `VmRSS after ${early.requests} requests (${Math.round(rssAtEnd)} MB after all ${requests.subgraph})`,
    },
  ];
  if (!peer) return figures;
  const peerRssAtEnd = await residentMegabytes(peer.process.child.pid!);
  const rate = (value: number) => `${Math.round(value)}`;
  const whenStopped = `${rate(rssAtStop)} / ${rate(peerRssAtStop!)} MB when the load stopped`;
  figures.push(
    {
      id: "rssVsPeer",
      label: `RSS after ${rssAfterRequests.toLocaleString("en-US")} requests ÷ better-auth's`,
      value: round(early.rss / early.peerRss),
      goal: { comparison: "≤", target: 1 },
      basis: `${rate(early.rss)} / ${rate(early.peerRss)} MB`,
    },
    {
      id: "rssAtEndVsPeer",
      label: `RSS after the whole run and ${settleSeconds} s idle ÷ better-auth's`,
      value: round(rssAtEnd / peerRssAtEnd),
      goal: { comparison: "≤", target: 1 },
      basis: `${rate(rssAtEnd)} / ${rate(peerRssAtEnd)} MB after ${requests.subgraph} / ${requests.peer} requests (${whenStopped})`,
    },
  );
  return figures;
}
