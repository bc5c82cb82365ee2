// What a hostile or overwhelming client costs the subgraph: the largest requests it refuses, and a
// login while a burst of registrations outruns the password hasher.
import { newAccount } from "../../harness/accounts.js";
import { doublingFragments, errorCodes, graphql, mutations } from "../../harness/graphql.js";
import { ms, round, type Bench } from "../bench.js";
import { percentile } from "../load.js";
import { residentMegabytes, type Served } from "../processes.js";
import type { Figure } from "../report.js";

/** `{_service{a0:sdl a1:sdl …}}` with 100 000 aliases: 0.93 MB, once answered with 454 MB. */
export const amplificationBody = JSON.stringify({
  query: `{_service{${Array.from({ length: 100_000 }, (_, index) => `a${index.toString(36)}:sdl`).join(" ")}}}`,
});

/** A request the subgraph refuses before running it, and the code it refuses it with. */
export interface RejectedRequest {
  body: string;
  code: string;
}

export const rejectedRequests = {
  aliases: { body: amplificationBody, code: "TOKEN_LIMIT_EXCEEDED" },
  /** 24 fragments, each spread twice by the one before (220 tokens): once 11.9 s of a blocked event loop. */
  fragments: {
    body: JSON.stringify({ query: `${doublingFragments(24, "Query", (index) => `a${index}: __typename`)} { ...F0 }` }),
    code: "COST_LIMIT_EXCEEDED",
  },
  /** 340 000 `{}` representations (0.97 MB): once 19.7 s of a blocked event loop and a 70.5 MB answer. */
  entities: {
    body: JSON.stringify({
      query: "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
      variables: { r: Array.from({ length: 340_000 }, () => ({})) },
    }),
    code: "ENTITY_LIMIT_EXCEEDED",
  },
} satisfies Record<string, RejectedRequest>;

/** `http_request_duration_seconds` of /graphql: sum, count, and how many took at most 100 ms. */
async function graphqlDurations(baseUrl: string): Promise<{ sum: number; count: number; within100ms: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const read = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
  return {
    sum: read(/^http_request_duration_seconds_sum\{route="\/graphql"\} (\S+)$/m),
    count: read(/^http_request_duration_seconds_count\{route="\/graphql"\} (\S+)$/m),
    within100ms: read(/^http_request_duration_seconds_bucket\{le="0\.1",route="\/graphql"\} (\S+)$/m),
  };
}

/** Eight such requests at once: the server's own time for each, and its memory around them. */
export async function rejectedBurst(subgraph: Served, rejected: RejectedRequest, parallel = 8) {
  const rssBefore = await residentMegabytes(subgraph.process.child.pid!);
  const before = await graphqlDurations(subgraph.baseUrl);
  const clientMs = await Promise.all(
    Array.from({ length: parallel }, async () => {
      const started = performance.now();
      const response = await fetch(subgraph.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: rejected.body,
      });
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      if (response.status !== 400 || !body.errors?.some((error) => error.extensions?.code === rejected.code)) {
        throw new Error(
          `the request was not refused with ${rejected.code}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`,
        );
      }
      return performance.now() - started;
    }),
  );
  const after = await graphqlDurations(subgraph.baseUrl);
  const rssAfter = await residentMegabytes(subgraph.process.child.pid!);
  return {
    parallel,
    serverMsMean: ((after.sum - before.sum) / (after.count - before.count)) * 1000,
    within100ms: after.within100ms - before.within100ms,
    clientMsMax: Math.max(...clientMs),
    rssBefore,
    rssAfter,
  };
}

/**
 * `registrations` registers at once, and meanwhile one client logging in again and again: how long
 * its logins take, and how the registrations were answered (an account, or a fast refusal).
 */
export async function loginDuringRegistrationBurst(
  url: string,
  login: { usernameOrEmail: string; password: string },
  registrations = 400,
) {
  let bursting = true;
  const burst = Promise.all(
    Array.from({ length: registrations }, () =>
      graphql(url, mutations.register, { input: newAccount("burst") }).then(errorCodes),
    ),
  ).finally(() => (bursting = false));
  const logins: { ms: number; codes: string[] }[] = [];
  while (bursting || logins.length === 0) {
    const started = performance.now();
    const codes = errorCodes(await graphql(url, mutations.login, { input: login }));
    logins.push({ ms: performance.now() - started, codes });
  }
  const registered = await burst;
  const count = (answers: string[][], code?: string) =>
    answers.filter((codes) => (code ? codes.join() === code : codes.length === 0)).length;
  const unexpected = [...registered, ...logins.map((entry) => entry.codes)].find(
    (codes) => codes.length > 0 && codes.join() !== "SERVICE_UNAVAILABLE",
  );
  if (unexpected) throw new Error(`unexpected answer during the registration burst: ${unexpected.join()}`);
  const latencies = logins.map((entry) => entry.ms).sort((a, b) => a - b);
  return {
    registrations,
    registered: count(registered),
    registrationsRefused: count(registered, "SERVICE_UNAVAILABLE"),
    logins: logins.length,
    loginsServed: count(logins.map((entry) => entry.codes)),
    loginMsMax: latencies.at(-1)!,
    loginMsP50: percentile(latencies, 50),
  };
}

/** Last, so that neither disturbs the other figures: the largest requests refused, and a login during a registration burst. */
export async function hardeningFigures(bench: Bench): Promise<Figure[]> {
  bench.log("the largest rejected requests, 8 at once each");
  const amplification = await rejectedBurst(bench.subgraph, rejectedRequests.aliases);
  const fragmentWalk = await rejectedBurst(bench.subgraph, rejectedRequests.fragments);
  const entityList = await rejectedBurst(bench.subgraph, rejectedRequests.entities);
  bench.log("logins during 400 concurrent registrations");
  const [first] = bench.users;
  const burst = await loginDuringRegistrationBurst(bench.subgraph.url, {
    usernameOrEmail: first!.usernameOrEmail,
    password: first!.password,
  });
  return [
    {
      id: "amplificationServerMs",
      label: "largest rejected request: server time, ms",
      value: round(amplification.serverMsMean),
      goal: { comparison: "≤", target: 100 },
      basis: `mean of ${amplification.parallel} × 100 000 aliases (0.93 MB) at once, all TOKEN_LIMIT_EXCEEDED; ${amplification.within100ms}/${amplification.parallel} within 100 ms; client max ${ms(amplification.clientMsMax)}`,
    },
    {
      id: "fragmentWalkServerMs",
      label: "24 fragments, each spread twice: server time, ms",
      value: round(fragmentWalk.serverMsMean),
      goal: { comparison: "≤", target: 100 },
      basis: `mean of ${fragmentWalk.parallel} at once, all COST_LIMIT_EXCEEDED; ${fragmentWalk.within100ms}/${fragmentWalk.parallel} within 100 ms; client max ${ms(fragmentWalk.clientMsMax)}`,
    },
    {
      id: "entityListServerMs",
      label: "340 000 `_entities` representations: server time, ms",
      value: round(entityList.serverMsMean),
      goal: { comparison: "≤", target: 100 },
      basis: `mean of ${entityList.parallel} × 0.97 MB at once, all ENTITY_LIMIT_EXCEEDED; ${entityList.within100ms}/${entityList.parallel} within 100 ms; client max ${ms(entityList.clientMsMax)}`,
    },
    {
      id: "amplificationRssGrowth",
      label: "RSS after the amplification burst: growth, MB",
      value: round(amplification.rssAfter - amplification.rssBefore, 1),
      goal: { comparison: "≤", target: 50 },
      basis: `VmRSS ${Math.round(amplification.rssBefore)} → ${Math.round(amplification.rssAfter)} MB`,
    },
    {
      id: "loginDuringRegistrationsMs",
      label: "login during 400 concurrent registers: slowest, ms",
      value: round(burst.loginMsMax),
      goal: { comparison: "≤", target: 1000 },
      basis: `${burst.loginsServed}/${burst.logins} logins served (p50 ${ms(burst.loginMsP50)}), the rest SERVICE_UNAVAILABLE; registers: ${burst.registered} accounts, ${burst.registrationsRefused} SERVICE_UNAVAILABLE`,
    },
  ];
}
