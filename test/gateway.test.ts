import {
  ApolloGateway,
  IntrospectAndCompose,
  RemoteGraphQLDataSource,
  type GraphQLDataSourceProcessOptions,
} from "@apollo/gateway";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/observability/logger.js";
import { errorCodes, graphql, mutations, sessionMutations } from "../harness/graphql.js";
import { itServesTheSupergraph, startSubgraphs, type Subgraphs } from "./helpers/router-behaviour.js";
import { itKeepsBrowserSessionsThrough } from "./helpers/router-cookies.js";
import { newAccount } from "./helpers/server.js";

// As README.md shows it: the client's authorization and user agent, and its address appended to
// X-Forwarded-For, passed on to the subgraphs; a browser's session headers passed to the users
// subgraph, and its Set-Cookie back to the browser.
interface GatewayContext {
  authorization?: string;
  userAgent?: string;
  forwardedFor: string;
  /** The browser's session cookie, its page's origin and the transport it asks for. */
  cookie?: string;
  origin?: string;
  sessionTransport?: string;
  /** The users subgraph's Set-Cookie for this request (it sets at most one per answer: the last wins). */
  setCookie?: string;
}

class ClientHeadersForwarding extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly subgraphName: string,
    url: string,
  ) {
    super({ url });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http!.headers;
    if (context.authorization) headers.set("authorization", context.authorization);
    if (context.userAgent) headers.set("user-agent", context.userAgent);
    headers.set("x-forwarded-for", context.forwardedFor);
    if (this.subgraphName !== "users") return;
    if (context.cookie) headers.set("cookie", context.cookie);
    if (context.origin) headers.set("origin", context.origin);
    if (context.sessionTransport) headers.set("x-session-transport", context.sessionTransport);
  }

  override didReceiveResponse({
    response,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>["didReceiveResponse"]>>[0]) {
    const setCookie = response.http?.headers.get("set-cookie");
    if (setCookie && this.subgraphName === "users") context.setCookie = setCookie;
    return response;
  }
}

/** Hands the users subgraph's Set-Cookie to the browser. */
const setCookieForwarding: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ contextValue, response }) {
        if (contextValue.setCookie) response.http.headers.set("set-cookie", contextValue.setCookie);
      },
    };
  },
};

let subgraphs: Subgraphs;
let gateway: ApolloServer<GatewayContext>;
let gatewayUrl: string;
beforeAll(async () => {
  // The gateway runs on 127.0.0.1: the users subgraph believes its X-Forwarded-For.
  subgraphs = await startSubgraphs({
    users: { config: { TRUST_PROXY: "127.0.0.1" }, loginLimits: { failuresPerClient: 3 } },
  });
  const { users, reviews } = subgraphs;
  gateway = new ApolloServer<GatewayContext>({
    gateway: new ApolloGateway({
      supergraphSdl: new IntrospectAndCompose({
        subgraphs: [
          { name: "users", url: users.url },
          { name: "reviews", url: reviews.url },
        ],
      }),
      buildService: ({ name, url }) => new ClientHeadersForwarding(name, url!),
      logger: createLogger("silent"),
    }),
    plugins: [setCookieForwarding],
    logger: createLogger("silent"),
  });
  ({ url: gatewayUrl } = await startStandaloneServer(gateway, {
    listen: { port: 0, host: "127.0.0.1" },
    context: async ({ req }) => ({
      authorization: req.headers.authorization,
      userAgent: req.headers["user-agent"],
      forwardedFor: [req.headers["x-forwarded-for"], req.socket.remoteAddress].filter(Boolean).join(", "),
      cookie: req.headers.cookie,
      origin: req.headers.origin,
      sessionTransport: req.headers["x-session-transport"] as string | undefined,
    }),
  }));
});
afterAll(async () => {
  await gateway?.stop();
  await subgraphs?.stop();
});

itServesTheSupergraph(() => ({ url: gatewayUrl, ...subgraphs }));

describe("browser sessions through @apollo/gateway", () => {
  itKeepsBrowserSessionsThrough(() => gatewayUrl);
});

it("passes the client's user agent and address on: sessions record the client's, and clients are limited apart", async () => {
  const account = newAccount("proxied");
  await subgraphs.users.app.services.accounts.register(account);
  // The gateway's own clients, as a load balancer in front of it would name them.
  const through = (client: string, userAgent = "browser/42") => ({
    headers: { "x-forwarded-for": client, "user-agent": userAgent },
  });
  const logIn = (client: string, password: string) =>
    graphql(gatewayUrl, mutations.login, { input: { usernameOrEmail: account.username, password } }, through(client));

  const session = await logIn("203.0.113.40", account.password);
  expect(session.errors).toBeUndefined();
  const listed = await graphql(gatewayUrl, sessionMutations.sessions, {}, { token: session.data!.login.accessToken });
  expect(listed.data!.sessions.find((entry: { current: boolean }) => entry.current).userAgent).toBe("browser/42");

  for (let i = 0; i < 3; i++)
    expect(errorCodes(await logIn("203.0.113.41", "wrong guess"))).toEqual(["INVALID_CREDENTIALS"]);
  expect(errorCodes(await logIn("203.0.113.41", account.password))).toEqual(["RATE_LIMITED"]);
  expect((await logIn("203.0.113.42", account.password)).errors).toBeUndefined();
});
