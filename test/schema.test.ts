import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { subgraphSdlPath } from "../src/subgraph-schema.js";
import { useTestServer } from "./helpers/test-server.js";

const server = useTestServer();

it("serves exactly the SDL checked in as schema/users.graphql (`npm run schema` rewrites it)", async () => {
  const response = await server().request("{ _service { sdl } }");
  const served = `${(response.data!._service.sdl as string).trimEnd()}\n`;
  expect(served).toBe(await readFile(subgraphSdlPath, "utf8"));
});

it("imports only the federation directives it uses", async () => {
  const sdl = await readFile(subgraphSdlPath, "utf8");
  const link = /@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+", import: \[(.*?)\]\)/.exec(sdl);
  expect(link).not.toBeNull();
  const imported = link![1]!.split(",").map((name) => name.trim().replace(/"/g, ""));
  // Where directives are used: not in their definitions, not in the @link imports.
  const usage = sdl
    .split("\n")
    .filter((line) => !line.startsWith("directive ") && !line.includes("@link("))
    .join("\n");
  expect(imported).toEqual(["@key"]);
  for (const directive of imported) expect(usage, directive).toContain(`${directive}(`);
  expect(sdl).not.toMatch(/@authenticated|@requiresScopes|@policy/);
});
