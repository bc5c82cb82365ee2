// The framework ceiling: Apollo Server's own standalone HTTP server and a federated subgraph schema
// whose resolvers return a constant. It answers the same `me` and `_entities` operations as the
// users subgraph, so comparing the two measures what the subgraph adds, and nothing else.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type User @key(fields: "id") {
    id: ID!
    username: String!
    email: String
    createdAt: String!
  }

  type Query {
    me: User
  }
`);

const viewer = {
  id: "00000000-0000-4000-8000-000000000000",
  username: "ceiling",
  email: "ceiling@example.com",
  createdAt: "2026-01-01T00:00:00.000Z",
};

const resolvers = {
  Query: { me: () => viewer },
  User: { __resolveReference: ({ id }: { id: string }) => ({ ...viewer, id }) },
};
const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs, resolvers: resolvers as never }) });
const port = Number(process.env.PORT ?? 4002);
await startStandaloneServer(server, { listen: { port, host: "127.0.0.1" } });

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => server.stop().then(() => process.exit(0)));
}
