import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { composeServices, type CompositionResult } from "@apollo/composition";
import { assertObjectType, parse, type GraphQLSchema } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { reviewsSchemaPath } from "./fixtures/reviews/server.js";
import { projectRoot } from "../harness/process.js";

// The part of rover's supergraph config format this repository uses.
const roverConfigSchema = z.object({
  federation_version: z.string().regex(/^=2\.\d+\.\d+$/),
  subgraphs: z.record(z.string(), z.object({ routing_url: z.url(), schema: z.object({ file: z.string() }) })),
});

const compositionVersion: string = createRequire(import.meta.url)("@apollo/composition/package.json").version;
const reviews = { name: "reviews", url: "http://localhost:4002/graphql", schemaFile: reviewsSchemaPath };

function fieldsOf(schema: GraphQLSchema, typeName: string): Record<string, string> {
  const fields = assertObjectType(schema.getType(typeName)).getFields();
  return Object.fromEntries(Object.values(fields).map((field) => [field.name, String(field.type)]));
}

// What `rover supergraph compose --config rover.yaml` does, through the same composition library.
describe("rover.yaml composed with a subgraph that references User", () => {
  let config: z.infer<typeof roverConfigSchema>;
  let result: CompositionResult;
  beforeAll(async () => {
    config = roverConfigSchema.parse(parseYaml(await readFile(path.join(projectRoot, "rover.yaml"), "utf8")));
    const subgraphs = [
      ...Object.entries(config.subgraphs).map(([name, subgraph]) => ({
        name,
        url: subgraph.routing_url,
        schemaFile: path.resolve(projectRoot, subgraph.schema.file),
      })),
      reviews,
    ];
    const services = await Promise.all(
      subgraphs.map(async ({ name, url, schemaFile }) => ({
        name,
        url,
        typeDefs: parse(await readFile(schemaFile, "utf8")),
      })),
    );
    result = composeServices(services);
  });

  it("names the users subgraph by its schema file and routing URL, at the pinned federation version", () => {
    expect(config.subgraphs.users).toEqual({
      routing_url: "http://localhost:4001/graphql",
      schema: { file: "./schema/users.graphql" },
    });
    expect(config.federation_version).toBe(`=${compositionVersion}`);
  });

  it("composes without errors", () => {
    expect(result.errors?.map((error) => error.message) ?? []).toEqual([]);
    expect(result.supergraphSdl).toContain('USERS @join__graph(name: "users", url: "http://localhost:4001/graphql")');
    // @apollo/gateway refuses supergraphs with SECURITY features (@authenticated, @requiresScopes…).
    expect(result.supergraphSdl).not.toMatch(/for: SECURITY/);
  });

  it("gives clients the users subgraph's fields and the reviews' author as a User", () => {
    const api = result.schema!.toAPISchema().toGraphQLJSSchema();
    expect(fieldsOf(api, "Query")).toEqual({
      me: "User",
      user: "User",
      sessions: "[Session!]!",
      users: "UserConnection!",
      securityEvents: "SecurityEventConnection!",
      userSecurityEvents: "SecurityEventConnection!",
      eventDeliveries: "EventDeliveryConnection!",
      identityProviders: "[IdentityProvider!]!",
      reviews: "[Review!]!",
    });
    expect(fieldsOf(api, "User")).toEqual({
      id: "ID!",
      username: "String!",
      email: "String",
      totpEnabled: "Boolean",
      passkeys: "[Passkey!]",
      emailVerified: "Boolean",
      createdAt: "DateTime!",
      roles: "[String!]",
      lockedAt: "DateTime",
      identities: "[Identity!]",
      hasPassword: "Boolean",
    });
    expect(fieldsOf(api, "Review")).toEqual({ id: "ID!", body: "String!", author: "User!" });
    expect(Object.keys(fieldsOf(api, "Mutation"))).toEqual(
      expect.arrayContaining([
        "register",
        "login",
        "refreshSession",
        "logout",
        "logoutAll",
        "revokeSession",
        "changePassword",
      ]),
    );
  });
});
