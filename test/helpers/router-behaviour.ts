import { expect, it } from "vitest";
import { newAccount } from "../../harness/accounts.js";
import { errorCodes, graphql, mutations } from "../../harness/graphql.js";
import type { AuthResult } from "../../src/sessions/session-lifecycle.js";
import { startReviewsSubgraph, type ReviewsSubgraph } from "../fixtures/reviews/server.js";
import { createTestDatabase } from "./database.js";
import { QueryLog } from "./query-log.js";
import { startTestServer, type TestServer, type TestServerOptions } from "./server.js";

export interface RouterUnderTest {
  /** The router's GraphQL endpoint, over the users and reviews subgraphs. */
  url: string;
  /** The users subgraph's database client. */
  queries: QueryLog;
  /** Authors of the reviews r1 and r3 (ada) and r2 (grace). */
  ada: AuthResult;
  grace: AuthResult;
}

export interface Subgraphs {
  users: TestServer;
  reviews: ReviewsSubgraph;
  queries: QueryLog;
  ada: AuthResult;
  grace: AuthResult;
  stop(): Promise<void>;
}

/**
 * The users subgraph (its statements logged) with ada and grace, and the reviews subgraph with
 * their three reviews: what every router test routes to. `onReviewsRequest` sees the extensions
 * of each request the reviews subgraph receives.
 */
export async function startSubgraphs({
  onReviewsRequest,
  users: usersOptions,
}: {
  onReviewsRequest?: (extensions: Record<string, unknown>) => void;
  /** More settings for the users subgraph (a router test's TRUST_PROXY, say). */
  users?: Pick<TestServerOptions, "config" | "loginLimits">;
} = {}): Promise<Subgraphs> {
  const database = await createTestDatabase();
  const queries = new QueryLog(database.url);
  const users = await startTestServer({ databaseUrl: database.url, database: queries.database, ...usersOptions });
  const [ada, grace] = await Promise.all([
    users.app.services.accounts.register(newAccount("ada")),
    users.app.services.accounts.register(newAccount("grace")),
  ]);
  const reviews = await startReviewsSubgraph(
    [
      { id: "r1", body: "Clear and correct.", authorId: ada.user.id },
      { id: "r2", body: "Needs a compiler.", authorId: grace.user.id },
      { id: "r3", body: "Elegant notes.", authorId: ada.user.id },
    ],
    onReviewsRequest,
  );
  return {
    users,
    reviews,
    queries,
    ada,
    grace,
    stop: async () => {
      await reviews.stop();
      await users.close();
      await queries.close();
      await database.drop();
    },
  };
}

/**
 * What the subgraph must do behind any router: the same checks for every router the tests run.
 * `exactEntityErrorPaths: false` for a router that names the right field but not the right list
 * index in the path of an error from a batch of entities (the data itself must still be right).
 */
export function itServesTheSupergraph(router: () => RouterUnderTest, { exactEntityErrorPaths = true } = {}): void {
  it("resolves reviews → author across both subgraphs with one query to the users database", async () => {
    const { url, queries, ada, grace } = router();
    const { result, statements } = await queries.during(() =>
      graphql(url, "{ reviews { id body author { id username } } }"),
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

  it("forwards the access token: me answers through the router", async () => {
    const { url, ada } = router();
    const me = await graphql(url, mutations.me, {}, { token: ada.accessToken });
    expect(me.errors).toBeUndefined();
    expect(me.data!.me).toEqual({
      id: ada.user.id,
      username: ada.user.username,
      email: ada.user.email,
      createdAt: ada.user.createdAt.toISOString(),
    });

    const anonymous = await graphql(url, mutations.me);
    expect(anonymous.data).toEqual({ me: null });
    expect(errorCodes(anonymous)).toEqual(["UNAUTHENTICATED"]);
  });

  it("gives the viewer their own e-mail through the router, and null with FORBIDDEN for another user's", async () => {
    const { url, ada, grace } = router();
    const response = await graphql(url, "{ reviews { id author { id email } } }", {}, { token: ada.accessToken });
    expect(response.data!.reviews).toEqual([
      { id: "r1", author: { id: ada.user.id, email: ada.user.email } },
      { id: "r2", author: { id: grace.user.id, email: null } },
      { id: "r3", author: { id: ada.user.id, email: ada.user.email } },
    ]);
    expect(errorCodes(response)).toEqual(["FORBIDDEN"]);
    const path = response.errors![0]!.path!;
    if (exactEntityErrorPaths) expect(path).toEqual(["reviews", 1, "author", "email"]);
    else expect([path[0], ...path.slice(2)]).toEqual(["reviews", "author", "email"]);
  });
}
