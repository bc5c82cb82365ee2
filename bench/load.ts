import autocannon from "autocannon";

/** One HTTP request, its path relative to the server's base URL. */
export interface HttpCall {
  method: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface GraphQLCall {
  query: string;
  variables?: Record<string, unknown>;
  token?: string;
}

export function graphqlCall({ query, variables, token }: GraphQLCall): HttpCall {
  return {
    method: "POST",
    path: "/graphql",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  };
}

/** A GraphQL answer counts when it is a 200 without errors. */
export const graphqlSucceeded = (status: number, body: string) => status === 200 && !body.includes('"errors"');

export interface LoadOptions {
  /** The server's base URL, e.g. http://127.0.0.1:4001 */
  baseUrl: string;
  /** Every connection sends these in turn, or else a new call made for every request. */
  calls: HttpCall[] | (() => HttpCall);
  /** Which answers count as served; any other fails the run. GraphQL's by default. */
  succeeded?: (status: number, body: string) => boolean;
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

/** Drives a server over loopback; fails when any answer is not one `succeeded` accepts. */
export function drive(options: LoadOptions): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const failures: string[] = [];
  const succeeded = options.succeeded ?? graphqlSucceeded;
  const onResponse = (status: number, body: string) => {
    if (!succeeded(status, body)) failures.push(`${status} ${body.slice(0, 300)}`);
  };
  const { calls } = options;
  const requests: autocannon.Request[] =
    typeof calls === "function"
      ? [{ setupRequest: (request) => ({ ...request, ...calls() }), onResponse }]
      : calls.map((call) => ({ ...call, onResponse }));
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.baseUrl,
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
          return reject(
            new Error(
              `${failed} of ${result.requests.total} requests to ${options.baseUrl} failed: ${failures[0] ?? "connection errors"}`,
            ),
          );
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
