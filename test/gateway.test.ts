import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AuthResult } from "../src/sessions/session-lifecycle.js";
import { createLogger } from "../src/observability/logger.js";
import { startReviewsSubgraph, type ReviewsSubgraph } from "./fixtures/reviews/server.js";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { errorCodes, graphql, mutations } from "./helpers/graphql.js";
import { QueryLog } from "./helpers/query-log.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

interface GatewayContext {
  authorization?: string;
}

/** Passes the client's Authorization header on to the subgraphs, as the router's header propagation does. */
class AuthorizationForwarding extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if (context.authorization) request.http?.headers.set("authorization", context.authorization);
  }
}

let database: TestDatabase;
let queries: QueryLog;
let users: TestServer;
let reviews: ReviewsSubgraph;
let gateway: ApolloServer<GatewayContext>;
let gatewayUrl: string;
let ada: AuthResult;
let grace: AuthResult;
beforeAll(async () => {
  database = await createTestDatabase();
  queries = new QueryLog(database.url);
  users = await startTestServer({ databaseUrl: database.url, database: queries.database });
  [ada, grace] = await Promise.all([
    users.app.services.accounts.register(newAccount("ada")),
    users.app.services.accounts.register(newAccount("grace")),
  ]);
  reviews = await startReviewsSubgraph([
    { id: "r1", body: "Clear and correct.", authorId: ada!.user.id },
    { id: "r2", body: "Needs a compiler.", authorId: grace!.user.id },
    { id: "r3", body: "Elegant notes.", authorId: ada!.user.id },
  ]);
  gateway = new ApolloServer<GatewayContext>({
    gateway: new ApolloGateway({
      supergraphSdl: new IntrospectAndCompose({
        subgraphs: [
          { name: "users", url: users.url },
          { name: "reviews", url: reviews.url },
        ],
      }),
      buildService: ({ url }) => new AuthorizationForwarding({ url }),
      logger: createLogger("silent"),
    }),
    logger: createLogger("silent"),
  });
  ({ url: gatewayUrl } = await startStandaloneServer(gateway, {
    listen: { port: 0, host: "127.0.0.1" },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  }));
});
afterAll(async () => {
  await gateway.stop();
  await reviews.stop();
  await users.close();
  await queries.close();
  await database.drop();
});

it("resolves reviews → author across both subgraphs with one query to the users database", async () => {
  const { result, statements } = await queries.during(() =>
    graphql(gatewayUrl, "{ reviews { id body author { id username } } }"),
  );
  expect(result.errors).toBeUndefined();
  const author = ({ user }: AuthResult) => ({ id: user.id, username: user.username });
  expect(result.data!.reviews).toEqual([
    { id: "r1", body: "Clear and correct.", author: author(ada) },
    { id: "r2", body: "Needs a compiler.", author: author(grace) },
    { id: "r3", body: "Elegant notes.", author: author(ada) },
  ]);
  expect(statements).toHaveLength(1);
});

it("forwards the Authorization header: me answers through the gateway", async () => {
  const me = await graphql(gatewayUrl, mutations.me, {}, { token: ada.accessToken });
  expect(me.errors).toBeUndefined();
  expect(me.data!.me).toEqual({
    id: ada.user.id,
    username: ada.user.username,
    email: ada.user.email,
    createdAt: ada.user.createdAt.toISOString(),
  });

  const anonymous = await graphql(gatewayUrl, mutations.me);
  expect(anonymous.data).toEqual({ me: null });
  expect(errorCodes(anonymous)).toEqual(["UNAUTHENTICATED"]);
});

it("gives the viewer their own e-mail through the gateway, and null with FORBIDDEN for another user's", async () => {
  const response = await graphql(gatewayUrl, "{ reviews { id author { id email } } }", {}, { token: ada.accessToken });
  expect(response.data!.reviews).toEqual([
    { id: "r1", author: { id: ada.user.id, email: ada.user.email } },
    { id: "r2", author: { id: grace.user.id, email: null } },
    { id: "r3", author: { id: ada.user.id, email: ada.user.email } },
  ]);
  expect(errorCodes(response)).toEqual(["FORBIDDEN"]);
  expect(response.errors![0]!.path).toEqual(["reviews", 1, "author", "email"]);
});
