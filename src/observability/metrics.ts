import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { metricLabel, type CountedEvent } from "./events.js";

/** One registry per server, so that several servers in one process keep separate figures. */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests served, by route and status code.",
    labelNames: ["route", "status"] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time to answer an HTTP request, by route.",
    labelNames: ["route"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly httpRequestsInFlight = new Gauge({
    name: "http_requests_in_flight",
    help: "HTTP requests received and not yet answered.",
    registers: [this.registry],
  });

  readonly graphqlErrors = new Counter({
    name: "graphql_errors_total",
    help: "Errors sent to GraphQL clients, by extensions.code.",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });

  readonly databaseQueries = new Counter({
    name: "database_queries_total",
    help: "SQL statements sent to PostgreSQL (counted when the client emits query events).",
    registers: [this.registry],
  });

  readonly authEvents = new Counter({
    name: "auth_events_total",
    help: "Account and session events.",
    labelNames: ["event"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** `database_replicas_usable`, read from `usable` at each scrape. */
  watchReplicas(usable: () => number): void {
    new Gauge({
      name: "database_replicas_usable",
      help: "Read replicas (DATABASE_REPLICA_URLS) serving the reads that may lag right now.",
      registers: [this.registry],
      collect() {
        this.set(usable());
      },
    });
  }

  recordAuthEvent = (event: CountedEvent): void => {
    this.authEvents.inc({ event: metricLabel(event) });
  };
}
