import { Agent, request as httpRequest } from "node:http";
import { afterAll, expect, it } from "vitest";
import { useTestServer } from "./helpers/test-server.js";

const server = useTestServer();
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
afterAll(() => agent.destroy());

const typename = JSON.stringify({ query: "{ __typename }" });
const oversized = JSON.stringify({ query: `{ __typename }${" ".repeat(1536 * 1024)}` });

/** One POST through the keep-alive agent; `chunked` sends no content-length, as a stream. */
function post(
  body: string,
  options: { chunked?: boolean } = {},
): Promise<{ status: number; connection?: string; body: string }> {
  const url = new URL(server().url);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(options.chunked ? {} : { "content-length": Buffer.byteLength(body) }),
        },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode!, connection: response.headers.connection, body: text }),
        );
      },
    );
    outgoing.on("error", reject);
    if (options.chunked) {
      // In slices, so that the server sees the limit pass while the client is still sending.
      for (let offset = 0; offset < body.length; offset += 64 * 1024)
        outgoing.write(body.slice(offset, offset + 64 * 1024));
      outgoing.end();
    } else {
      outgoing.end(body);
    }
  });
}

it.each([
  ["declared by content-length", {}],
  ["streamed without a length", { chunked: true }],
])(
  "answers a body over 1 MB (%s) with 413 and Connection: close; the same client's next request is served",
  async (_case, options) => {
    expect((await post(typename)).status).toBe(200);
    const refused = await post(oversized, options);
    expect(refused.status).toBe(413);
    expect(refused.connection).toBe("close");
    expect(JSON.parse(refused.body).errors[0].extensions.code).toBe("BAD_REQUEST");

    const next = await post(typename);
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body)).toEqual({ data: { __typename: "Query" } });
    const fresh = await fetch(server().url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typename,
    });
    expect(fresh.status).toBe(200);
  },
);
