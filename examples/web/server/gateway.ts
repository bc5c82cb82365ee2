import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createGatewayRuntime } from "@graphql-hive/gateway-runtime";
import { composeServices } from "@theguild/federation-composition";
import { parse } from "graphql";
import { subgraphSdlPath } from "../../../src/subgraph-schema.js";

export interface Gateway {
  url: string;
  stop(): Promise<void>;
}

/** What the app's pages send: JSON, the access token, cookie mode, Apollo's CSRF-prevention headers. */
const allowedHeaders = [
  "content-type",
  "authorization",
  "x-session-transport",
  "apollo-require-preflight",
  "x-apollo-operation-name",
];

/**
 * Hive Gateway in front of the users subgraph, configured for a browser app in cookie mode: it
 * passes the session cookie, the page's origin and the transport header down, the subgraph's
 * Set-Cookie back up, and lets only the app's origin call it with credentials.
 */
export async function startGateway(options: {
  subgraphUrl: string;
  appOrigin: string;
  port: number;
}): Promise<Gateway> {
  const composed = composeServices([
    { name: "users", url: options.subgraphUrl, typeDefs: parse(await readFile(subgraphSdlPath, "utf8")) },
  ]);
  if (composed.errors)
    throw new Error(`composition failed: ${composed.errors.map((error) => error.message).join("; ")}`);
  const gateway = createGatewayRuntime({
    supergraph: composed.supergraphSdl,
    logging: "warn",
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }) => ({
        authorization: request.headers.get("authorization"),
        "user-agent": request.headers.get("user-agent"),
        cookie: request.headers.get("cookie"),
        origin: request.headers.get("origin"),
        "x-session-transport": request.headers.get("x-session-transport"),
      }),
      fromSubgraphsToClient: ({ response }) => ({ "set-cookie": response.headers.getSetCookie() }),
    },
    cors: { origin: [options.appOrigin], credentials: true, methods: ["GET", "POST"], allowedHeaders },
    // Refuses what a form on any page could send, as the subgraph does.
    csrfPrevention: { requestHeaders: ["apollo-require-preflight", "x-apollo-operation-name"] },
  });
  const server = createServer(gateway);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}/graphql`,
    stop: async () => {
      await new Promise((resolve) => server.close(resolve));
      await gateway.dispose();
    },
  };
}
