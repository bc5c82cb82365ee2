import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTracing } from "../src/observability/tracing.js";
import { newAccount } from "../harness/accounts.js";
import { useTestDatabase } from "./helpers/database.js";
import { testRedisUrl } from "./helpers/environment.js";
import { graphql, mutations } from "../harness/graphql.js";
import { freePort, startProcess } from "../harness/process.js";

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

/** A minimal OTLP/HTTP receiver: what the exporter posts to /v1/traces (JSON encoding). */
const received: { resource: Record<string, unknown>; spans: ExportedSpan[] }[] = [];
let receiver: Server;
let receiverUrl: string;
const database = useTestDatabase();
let dataDir: string;
beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      if (request.url === "/v1/traces" && request.method === "POST") {
        for (const resourceSpans of JSON.parse(body).resourceSpans ?? []) {
          const resource = Object.fromEntries(
            resourceSpans.resource.attributes.map((attribute: { key: string; value: Record<string, unknown> }) => [
              attribute.key,
              Object.values(attribute.value)[0],
            ]),
          );
          received.push({
            resource,
            spans: resourceSpans.scopeSpans.flatMap((scope: { spans: ExportedSpan[] }) => scope.spans),
          });
        }
      }
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  dataDir = await mkdtemp(path.join(tmpdir(), "users-subgraph-tracing-"));
});
afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  await rm(dataDir, { recursive: true, force: true });
});

it("loads no tracing SDK without OTEL_EXPORTER_OTLP_ENDPOINT", async () => {
  expect(await startTracing({})).toBeUndefined();
});

it("exports a login's spans (HTTP, GraphQL, PostgreSQL, Redis) over OTLP/HTTP in the caller's trace", async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startProcess(
    "node",
    ["--import", "tsx", "src/main.ts"],
    {
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: database().url,
      REDIS_URL: testRedisUrl,
      REDIS_KEY_PREFIX: `test:${randomBytes(6).toString("hex")}:`,
      LOG_LEVEL: "warn",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
      OTEL_SERVICE_NAME: "users-subgraph-under-test",
    },
    `${base}/health/live`,
  );
  try {
    const account = newAccount("traced");
    expect((await graphql(`${base}/graphql`, mutations.register, { input: account })).errors).toBeUndefined();
    const traceId = randomBytes(16).toString("hex");
    const login = await graphql(
      `${base}/graphql`,
      mutations.login,
      { input: { usernameOrEmail: account.username, password: account.password } },
      { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` } },
    );
    expect(login.errors).toBeUndefined();
    expect(await server.stop()).toBe(0); // shutting down flushes the spans still buffered

    const exported = received.flatMap(({ spans }) => spans);
    const loginSpans = exported.filter((span) => span.traceId === traceId);
    const names = loginSpans.map((span) => span.name);
    expect(names).toContain("POST /graphql");
    expect(names).toContain("mutation Login");
    expect(names).toContain("postgresql");
    expect(names).toContain("redis EVAL"); // the login attempt counted in Redis, in one script
    const http = loginSpans.find((span) => span.name === "POST /graphql")!;
    expect(http.kind).toBe(2); // SERVER
    for (const span of loginSpans.filter((span) => span !== http)) expect(span.parentSpanId, span.name).toBeTruthy();
    expect(received.every(({ resource }) => resource["service.name"] === "users-subgraph-under-test")).toBe(true);
    // No statement text carries a value: parameters travel apart from the SQL.
    expect(JSON.stringify(loginSpans)).not.toContain(account.password);
  } finally {
    await server.stop();
  }
}, 120_000);
