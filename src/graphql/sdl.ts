import { fileURLToPath } from "node:url";
import { execute, parse } from "graphql";
import { buildUsersSubgraphSchema } from "./schema.js";

export const subgraphSdlPath = fileURLToPath(new URL("../../schema/users.graphql", import.meta.url));

/** The subgraph SDL exactly as `_service { sdl }` serves it to composition, ending in one newline. */
export async function subgraphSdl(): Promise<string> {
  const result = await execute({ schema: await buildUsersSubgraphSchema(), document: parse("{ _service { sdl } }") });
  const sdl = (result.data?._service as { sdl?: string } | undefined)?.sdl;
  if (!sdl) throw new Error(`the schema did not answer _service { sdl }: ${JSON.stringify(result.errors)}`);
  return `${sdl.trimEnd()}\n`;
}
