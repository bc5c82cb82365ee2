import autocannon from "autocannon";

export interface GraphQLCall {
  query: string;
  variables?: Record<string, unknown>;
  token?: string;
}

export interface LoadOptions {
  url: string;
  /** Every connection sends these in turn. */
  calls: GraphQLCall[];
  connections: number;
  /** How long to drive, or else how many requests to send. */
  durationSeconds?: number;
  amount?: number;
  /** Requests per second over all connections; as fast as the server answers when absent. */
  rate?: number;
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  /** Every request's latency in milliseconds, sorted. */
  latenciesMs: number[];
}

/** Drives a GraphQL server over loopback; fails when any answer is not a 200 without errors. */
export function drive(options: LoadOptions): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const failures: string[] = [];
  const requests = options.calls.map(
    ({ query, variables, token }): autocannon.Request => ({
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      onResponse: (status, body) => {
        if (status !== 200 || body.includes('"errors"')) failures.push(`${status} ${body.slice(0, 300)}`);
      },
    }),
  );
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        requests,
        connections: options.connections,
        // autocannon's defaults yield to keys given, even undefined ones.
        ...(options.amount === undefined ? { duration: options.durationSeconds } : { amount: options.amount }),
        overallRate: options.rate,
      },
      (error, result) => {
        if (error) return reject(error);
        const failed = failures.length + result.errors + result.timeouts + result.non2xx;
        if (failed > 0) {
          return reject(new Error(`${failed} of ${result.requests.total} requests to ${options.url} failed: ${failures[0] ?? "connection errors"}`));
        }
        latenciesMs.sort((a, b) => a - b);
        resolve({ requests: latenciesMs.length, requestsPerSecond: latenciesMs.length / result.duration, latenciesMs });
      },
    );
    // autocannon's own histogram keeps whole milliseconds; these are exact.
    instance.on("response", (_client, _status, _bytes, responseTime) => latenciesMs.push(responseTime));
  });
}

/** The nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) throw new Error("no samples");
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
