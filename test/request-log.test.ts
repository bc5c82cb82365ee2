import { beforeEach, expect, it } from "vitest";
import { capturedLogger } from "./helpers/log.js";
import { graphql, mutations } from "../harness/graphql.js";
import { useTestServer } from "./helpers/test-server.js";

const { logger, lines } = capturedLogger();
const server = useTestServer({ logger });
/** Where the current test's lines start; what came before is the server's start-up. */
let firstLine = 0;
beforeEach(() => {
  firstLine = lines.length;
});

const requestLines = () =>
  lines
    .slice(firstLine)
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.msg === "request");

it("logs one line per request: id, operation, duration, outcome code, client address", async () => {
  const anonymous = await fetch(server().url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": "router-7f3a.1" },
    body: JSON.stringify({ query: mutations.me }),
  });
  expect(anonymous.headers.get("x-request-id")).toBe("router-7f3a.1");
  await server().request(mutations.register, {
    input: { email: "not an address", username: "someone", password: "a fine passphrase" },
  });
  await fetch(`${server().baseUrl}/health/live`);

  const logged = requestLines();
  expect(logged).toHaveLength(3);
  expect(logged[0]).toMatchObject({
    level: 30,
    requestId: "router-7f3a.1",
    method: "POST",
    path: "/graphql",
    status: 200,
    operation: "Me",
    outcome: "UNAUTHENTICATED",
    client: "127.0.0.1",
  });
  expect(logged[0].durationMs).toBeGreaterThan(0);
  expect(logged[1]).toMatchObject({ operation: "Register", outcome: "BAD_USER_INPUT" });
  expect(logged[2]).toMatchObject({ path: "/health/live", status: 200, outcome: "OK" });
});

it("generates a request id when none, or no well-formed one, is given, and echoes it", async () => {
  const ids: string[] = [];
  for (const given of [undefined, "x".repeat(500), "two words", "new\nline"]) {
    const response = await fetch(`${server().baseUrl}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(given === undefined ? {} : { "x-request-id": given.replace("\n", "%0A") }),
      },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    ids.push(response.headers.get("x-request-id")!);
  }
  for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(new Set(ids).size).toBe(ids.length);
  expect(requestLines().map((entry) => entry.requestId)).toEqual(ids);
  expect(requestLines().map((entry) => entry.outcome)).toEqual(["OK", "OK", "OK", "OK"]);
});

it("names a successful login OK, a failed one by its code, and keeps Apollo's start-up chatter out", async () => {
  const account = { email: "log-line@example.com", username: "logline", password: "a fine passphrase" };
  await graphql(server().url, mutations.register, { input: account });
  await graphql(server().url, mutations.login, { input: { usernameOrEmail: "logline", password: account.password } });
  await graphql(server().url, mutations.login, { input: { usernameOrEmail: "logline", password: "not the password" } });
  expect(requestLines().map((entry) => [entry.operation, entry.outcome])).toEqual([
    ["Register", "OK"],
    ["Login", "OK"],
    ["Login", "INVALID_CREDENTIALS"],
  ]);
  expect(lines.length).toBeGreaterThan(firstLine);
  expect(lines.join("")).not.toMatch(/inline tracing/i); // start-up lines included
});
