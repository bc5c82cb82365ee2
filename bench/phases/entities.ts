import { setTimeout as sleep } from "node:timers/promises";
import { graphql } from "../../harness/graphql.js";
import { ms, round, seededUsers, type Bench, type Driver } from "../bench.js";
import { graphqlCall, percentile } from "../load.js";
import type { Figure } from "../report.js";

const entitiesQuery = `query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on User { id username createdAt } }
}`;

async function databaseQueriesSoFar(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const count = Number(/^database_queries_total (\d+)$/m.exec(text)?.[1]);
  if (!Number.isFinite(count)) throw new Error("/metrics has no database_queries_total");
  return count;
}

/** The count once requests still in flight when a load phase ended have been answered. */
async function settledDatabaseQueries(baseUrl: string): Promise<number> {
  let previous = -1;
  let current = await databaseQueriesSoFar(baseUrl);
  while (current !== previous) {
    await sleep(200);
    [previous, current] = [current, await databaseQueriesSoFar(baseUrl)];
  }
  return current;
}

/** `_entities` of every seeded user: how many SQL statements it costs, and its p50 for 100 users against 1. */
export async function entitiesFigures(bench: Bench): Promise<Figure[]> {
  const { subgraph, plan } = bench;
  const representations = bench.users.map((user) => ({ __typename: "User", id: user.id }));
  const queriesBefore = await settledDatabaseQueries(subgraph.baseUrl);
  const resolved = await graphql(subgraph.url, entitiesQuery, { representations });
  const entitiesSql = (await databaseQueriesSoFar(subgraph.baseUrl)) - queriesBefore;
  bench.requests.subgraph += 1;
  if (resolved.errors || resolved.data?._entities.filter(Boolean).length !== seededUsers) {
    throw new Error(`_entities did not resolve ${seededUsers} users: ${JSON.stringify(resolved.errors)}`);
  }
  const oneEntity = representations.map((representation) =>
    graphqlCall({ query: entitiesQuery, variables: { representations: [representation] } }),
  );
  const hundredEntities = [graphqlCall({ query: entitiesQuery, variables: { representations } })];
  const latency = async (driveServer: Driver) => {
    for (const calls of [oneEntity, hundredEntities])
      await driveServer({ calls, connections: 1, durationSeconds: plan.warmup });
    const one = await driveServer({ calls: oneEntity, connections: 1, durationSeconds: plan.latency });
    const hundred = await driveServer({ calls: hundredEntities, connections: 1, durationSeconds: plan.latency });
    return { one: percentile(one.latenciesMs, 50), hundred: percentile(hundred.latenciesMs, 50) };
  };
  const entities = await latency(bench.driveSubgraph);
  // The same on the ceiling, where resolving a reference costs nothing: what the framework allows.
  const ceiling = await latency(bench.driveCeiling);
  return [
    {
      id: "entitiesSqlQueries",
      label: "SQL queries for `_entities` of 100 users",
      value: entitiesSql,
      goal: { comparison: "=", target: 1 },
      basis: "database_queries_total before and after",
    },
    {
      id: "entitiesLatencyRatio",
      label: "`_entities`(100) p50 ÷ `_entities`(1) p50",
      value: round(entities.hundred / entities.one),
      goal: { comparison: "≤", target: 2 },
      basis: `${ms(entities.hundred)} / ${ms(entities.one)}; ceiling ${round(ceiling.hundred / ceiling.one)}`,
    },
  ];
}
