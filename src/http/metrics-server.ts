import { createServer, type Server, type ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import type { Logger } from "../observability/logger.js";

/** `/metrics` alone, on a port of its own, so that it need not be exposed with the API. */
export function createMetricsServer(sendMetrics: (response: ServerResponse) => Promise<void>, logger: Logger): Server {
  return createServer((request, response) => {
    if (request.url?.split("?")[0] !== "/metrics") {
      response.writeHead(404, { "content-type": "application/json; charset=utf-8" });
      response.end(JSON.stringify({ error: "not found" }));
      return;
    }
    sendMetrics(response).catch((error: unknown) => {
      logger.error({ err: error }, "could not render metrics");
      response.destroy();
    });
  });
}

/** Answers with the registry's figures, in Prometheus's text format. */
export function metricsResponder(registry: Registry): (response: ServerResponse) => Promise<void> {
  return async (response) => {
    response.writeHead(200, { "content-type": registry.contentType });
    response.end(await registry.metrics());
  };
}
