import { execute, parse, type GraphQLSchema } from "graphql";

/** A subgraph's SDL exactly as `_service { sdl }` serves it to composition, ending in one newline. */
export async function servedSdl(schema: GraphQLSchema): Promise<string> {
  const result = await execute({ schema, document: parse("{ _service { sdl } }") });
  const sdl = (result.data?._service as { sdl?: string } | undefined)?.sdl;
  if (!sdl) throw new Error(`the schema did not answer _service { sdl }: ${JSON.stringify(result.errors)}`);
  return `${sdl.trimEnd()}\n`;
}
