// Writes the SDL the subgraph serves (`_service { sdl }`) to schema/users.graphql.
// `--check` fails instead when the file differs.
import { readFile, writeFile } from "node:fs/promises";
import { subgraphSdl, subgraphSdlPath } from "../src/subgraph-schema.js";

const sdl = await subgraphSdl();
if (process.argv.includes("--check")) {
  const onDisk = await readFile(subgraphSdlPath, "utf8").catch(() => "");
  if (onDisk !== sdl) {
    console.error("schema/users.graphql is out of date: run `npm run schema`");
    process.exit(1);
  }
} else {
  await writeFile(subgraphSdlPath, sdl);
  console.log("Wrote schema/users.graphql");
}
