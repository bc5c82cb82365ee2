import { expect, it } from "vitest";
import { mutations } from "../harness/graphql.js";
import { useTestServer } from "./helpers/test-server.js";

const testServer = useTestServer();

it("tells every cache not to keep GraphQL answers, GET and POST alike", async () => {
  const server = testServer();
  const post = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: mutations.me }),
  });
  const get = await fetch(`${server.url}?query=${encodeURIComponent("{ __typename }")}`, {
    headers: { "apollo-require-preflight": "true" },
  });
  for (const response of [post, get]) {
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
  }
});
