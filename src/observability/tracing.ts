import type { IncomingMessage, ServerResponse } from "node:http";
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";
import type { ApolloServerPlugin } from "@apollo/server";
import { responseErrors } from "./response-errors.js";

// Without a registered SDK (OTEL_EXPORTER_OTLP_ENDPOINT unset) every span here is a no-op.
const tracer = trace.getTracer("users-subgraph");

/**
 * Exports spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT) is set; the
 * exporter and resource read the other standard OTEL_* variables (headers, timeout, service name,
 * resource attributes). Nothing is loaded otherwise. Returns the flush-and-stop for shutdown.
 */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<(() => Promise<void>) | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  if (env.OTEL_SDK_DISABLED === "true") return undefined;
  const [
    { NodeTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { defaultResource, detectResources, envDetector, resourceFromAttributes },
  ] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const provider = new NodeTracerProvider({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) override the default name.
    resource: defaultResource()
      .merge(resourceFromAttributes({ "service.name": "users-subgraph" }))
      .merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register(); // async-hooks context, W3C trace context and baggage propagation
  return () => provider.shutdown();
}

/** Runs `work` inside a server span for the request, continuing the caller's trace (traceparent). */
export function traceRequest<T>(
  request: IncomingMessage,
  response: ServerResponse,
  route: string,
  work: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), request.headers);
  const span = tracer.startSpan(
    `${request.method} ${route}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        "http.request.method": request.method ?? "",
        "http.route": route,
        "client.address": request.socket.remoteAddress ?? "",
      },
    },
    parent,
  );
  response.once("close", () => {
    span.setAttribute("http.response.status_code", response.statusCode);
    if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  return context.with(trace.setSpan(parent, span), work);
}

/** A span for one call to a dependency (a SQL statement, a Redis command), child of the current one. */
export function startClientSpan(name: string, attributes: Attributes): Span {
  return tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes });
}

export function endSpan(span: Span, error?: unknown): void {
  if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
  span.end();
}

/** A span per GraphQL operation, named after it, with its outcome code. */
export function tracingPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      const span = tracer.startSpan("graphql", { kind: SpanKind.INTERNAL });
      return {
        async didResolveOperation({ operationName, operation }) {
          const type = operation?.operation ?? "query";
          span.updateName(`${type} ${operationName ?? "anonymous"}`);
          span.setAttributes({ "graphql.operation.type": type, "graphql.operation.name": operationName ?? "" });
        },
        async willSendResponse({ response }) {
          const errors = responseErrors(response);
          const code = errors?.[0]?.extensions?.code;
          if (typeof code === "string") span.setAttribute("graphql.error.code", code);
          if (code === "INTERNAL_SERVER_ERROR" || code === "SERVICE_UNAVAILABLE")
            span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        },
      };
    },
  };
}
