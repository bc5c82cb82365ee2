import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

let database: TestDatabase;
let server: TestServer;
beforeAll(async () => {
  database = await createTestDatabase();
  server = await startTestServer({ databaseUrl: database.url, store: "redis" });
});
afterAll(async () => {
  await server.close();
  await database.drop();
});

describe("operational routes", () => {
  it("reports liveness and readiness with each dependency named", async () => {
    expect((await fetch(`${server.baseUrl}/health/live`)).status).toBe(200);
    const ready = await fetch(`${server.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: "ok",
      checks: { postgres: "ok", revocationStore: "ok", migrations: "ok" },
      failing: [],
    });
  });

  it("publishes the verification keys as a JWK set, public halves only", async () => {
    const response = await fetch(`${server.baseUrl}/.well-known/jwks.json`);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    const jwks = (await response.json()) as { keys: Record<string, string>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({
      kid: server.signingKeys.signing.kid,
      alg: "ES256",
      use: "sig",
      kty: "EC",
      crv: "P-256",
    });
    expect(jwks.keys[0]!.d).toBeUndefined();
  });

  it("exposes Prometheus metrics that count requests, error codes and account events", async () => {
    await server.request(mutations.register, { input: newAccount() });
    await server.request(mutations.login, { input: { usernameOrEmail: "nobody-here", password: "whatever it is" } });
    const response = await fetch(`${server.baseUrl}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^http_requests_total\{route="\/graphql",status="200"\} \d+/m);
    expect(text).toMatch(/^graphql_errors_total\{code="INVALID_CREDENTIALS"\} 1$/m);
    expect(text).toMatch(/^auth_events_total\{event="register"\} 1$/m);
    expect(text).toMatch(/^auth_events_total\{event="login_failed"\} 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it("answers unknown routes with 404", async () => {
    expect((await fetch(`${server.baseUrl}/nothing-here`)).status).toBe(404);
  });
});

describe("malformed GraphQL requests", () => {
  it("names the input field a variable of the wrong shape is about", async () => {
    const wrongType = await server.request(mutations.register, {
      input: { email: 5, username: "someone", password: "a fine passphrase" },
    });
    expect(errorCodes(wrongType)).toEqual(["BAD_USER_INPUT"]);
    expect(wrongType.errors![0]!.extensions!.field).toBe("email");

    const missing = await server.request(mutations.register, {
      input: { email: "a@example.com", username: "someone" },
    });
    expect(errorCodes(missing)).toEqual(["BAD_USER_INPUT"]);
    expect(missing.errors![0]!.extensions!.field).toBe("password");
  });

  it("refuses invalid JSON, unknown fields and syntax errors with codes and no stack trace", async () => {
    const badJson = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(badJson.status).toBe(400);

    const unknownField = await server.request("{ nonsense }");
    expect(errorCodes(unknownField)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    const syntax = await server.request("{ me { ");
    expect(errorCodes(syntax)).toEqual(["GRAPHQL_PARSE_FAILED"]);
    for (const response of [unknownField, syntax])
      expect(JSON.stringify(response)).not.toMatch(/stacktrace|\bat .*\.js/);
  });

  it("refuses a mutation over GET, as CSRF protection requires", async () => {
    const response = await fetch(`${server.url}?query=${encodeURIComponent("mutation { logout }")}`, {
      headers: { "apollo-require-preflight": "true" },
    });
    expect(response.status).toBe(405);
  });
});
