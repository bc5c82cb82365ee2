import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { logRequest } from "../observability/request-log.js";
import { traceRequest } from "../observability/tracing.js";
import type { Readiness } from "./health.js";

/** Every route the server answers; docs/api.md documents each. */
export const routes = new Set(["/graphql", "/health/live", "/health/ready", "/metrics", "/.well-known/jwks.json"]);

/** What answers each route. */
export interface RouteHandlers {
  graphql(request: IncomingMessage, response: ServerResponse, search: string): Promise<void>;
  readiness(): Promise<Readiness>;
  /** Absent when /metrics is served on a port of its own, apart from the API. */
  metrics?: (response: ServerResponse) => Promise<void>;
  jwks(): unknown;
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  response.end(JSON.stringify(body));
}

/**
 * Serves the routes on `httpServer`: each request logged, traced and counted. `startDraining` is
 * the first step of a graceful stop: readiness answers 503 and every response closes its connection.
 */
export function serveRoutes(
  httpServer: Server,
  handlers: RouteHandlers,
  observers: { metrics: Metrics; logger: Logger },
): { startDraining(): void } {
  const { metrics, logger } = observers;
  let draining = false;
  const handle = async (request: IncomingMessage, response: ServerResponse, path: string, search: string) => {
    if (draining) response.setHeader("connection", "close");
    switch (path) {
      case "/graphql":
        return handlers.graphql(request, response, search);
      case "/health/live":
        return sendJson(response, 200, { status: "ok" });
      case "/health/ready": {
        if (draining) return sendJson(response, 503, { status: "draining" });
        const readiness = await handlers.readiness();
        return sendJson(response, readiness.ready ? 200 : 503, readiness.body);
      }
      case "/metrics":
        return handlers.metrics ? handlers.metrics(response) : sendJson(response, 404, { error: "not found" });
      case "/.well-known/jwks.json":
        return sendJson(response, 200, handlers.jwks(), { "cache-control": "public, max-age=300" });
      default:
        return sendJson(response, 404, { error: "not found" });
    }
  };

  httpServer.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const started = process.hrtime.bigint();
    const target = request.url ?? "/";
    const queryStart = target.indexOf("?");
    const path = queryStart === -1 ? target : target.slice(0, queryStart);
    const search = queryStart === -1 ? "" : target.slice(queryStart);
    const route = routes.has(path) ? path : "other";
    metrics.httpRequestsInFlight.inc();
    response.on("close", () => metrics.httpRequestsInFlight.dec());
    logRequest(request, response, path, logger);
    response.on("finish", () => {
      metrics.httpRequests.inc({ route, status: String(response.statusCode) });
      metrics.httpDuration.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    traceRequest(request, response, route, () => handle(request, response, path, search)).catch((error: unknown) => {
      logger.error({ err: error, route }, "request failed");
      if (!response.headersSent) sendJson(response, 500, { error: "internal server error" });
      else response.destroy();
    });
  });
  return {
    startDraining: () => {
      draining = true;
    },
  };
}
