import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Kind, parse, type ObjectTypeDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { settingNames } from "../src/config/config.js";
import { errorCodes } from "../src/errors/codes.js";
import { routes } from "../src/http/routes.js";
import { accountEvents, deliveryOutcomes, metricLabels, userEventTypes } from "../src/observability/events.js";
import { projectRoot } from "../harness/process.js";

// docs/api.md is the contract users read: whatever the code adds must be documented there.
const apiDoc = await readFile(path.join(projectRoot, "docs/api.md"), "utf8");

/** Whether the document names `name` in code style: `NAME`, `name(…)`, `name: …`. */
function documents(name: string, followedBy = "`"): boolean {
  return apiDoc.includes(`\`${name}${followedBy}`);
}

describe("docs/api.md", () => {
  it("documents every error code of the registry", () => {
    const missing = Object.keys(errorCodes).filter((code) => !documents(code));
    expect(missing, "error codes missing from docs/api.md").toEqual([]);
  });

  it("documents every setting of the configuration", () => {
    const missing = settingNames.filter((name) => !documents(name));
    expect(missing, "settings missing from docs/api.md").toEqual([]);
  });

  it("documents every label of auth_events_total", () => {
    const row = apiDoc.split("\n").find((line) => line.startsWith("| `auth_events_total` |"));
    expect(row, "auth_events_total missing from docs/api.md").toBeDefined();
    const missing = metricLabels.filter((label) => !row!.includes(`\`${label}\``));
    expect(missing, "auth_events_total labels missing from docs/api.md").toEqual([]);
  });

  it("documents every outcome of outbox_delivery_attempts_total", () => {
    const row = apiDoc.split("\n").find((line) => line.startsWith("| `outbox_delivery_attempts_total` |"));
    expect(row, "outbox_delivery_attempts_total missing from docs/api.md").toBeDefined();
    expect(deliveryOutcomes.filter((outcome) => !row!.includes(`\`${outcome}\``))).toEqual([]);
  });

  it("documents every kind of security event", () => {
    const kinds = Object.entries(accountEvents)
      .filter(([, event]) => event.audited)
      .map(([kind]) => kind);
    const missing = kinds.filter((kind) => !documents(kind));
    expect(missing, "security event kinds missing from docs/api.md").toEqual([]);
  });

  it("documents every user event type, here and in docs/events.md for the other subgraphs' teams", async () => {
    const eventsDoc = await readFile(path.join(projectRoot, "docs/events.md"), "utf8");
    expect(userEventTypes.length).toBeGreaterThan(0);
    expect(userEventTypes.filter((type) => !documents(type))).toEqual([]);
    expect(userEventTypes.filter((type) => !eventsDoc.includes(`| \`${type}\` |`))).toEqual([]);
  });

  it("documents every route", () => {
    const missing = [...routes].filter(
      (route) => !new RegExp(`\`(GET|POST) ${route.replace(/[.]/g, "\\.")}[ \`]`).test(apiDoc),
    );
    expect(missing, "routes missing from docs/api.md").toEqual([]);
  });

  it("documents every query and mutation the subgraph serves", async () => {
    const sdl = parse(await readFile(path.join(projectRoot, "schema/users.graphql"), "utf8"));
    const operations = sdl.definitions
      .filter((definition): definition is ObjectTypeDefinitionNode => definition.kind === Kind.OBJECT_TYPE_DEFINITION)
      .filter((definition) => definition.name.value === "Query" || definition.name.value === "Mutation")
      .flatMap((definition) => definition.fields ?? [])
      .map((field) => ({ name: field.name.value, takesArguments: (field.arguments?.length ?? 0) > 0 }));
    expect(operations.length).toBeGreaterThan(0);
    const missing = operations.filter(({ name, takesArguments }) => !documents(name, takesArguments ? "(" : ":"));
    expect(
      missing.map(({ name }) => name),
      "operations missing from docs/api.md",
    ).toEqual([]);
  });
});

const skipped = new Set(["node_modules", ".git", "dist", ".data", "generated", "coverage", "results"]);

async function projectFiles(dir = projectRoot): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((entry) => !skipped.has(entry.name) && !entry.name.startsWith(".bench-build-"))
      .map((entry) => (entry.isDirectory() ? projectFiles(path.join(dir, entry.name)) : [path.join(dir, entry.name)])),
  );
  return nested.flat();
}

it("no project file refers to a path outside the repository", async () => {
  // The folder the checkout sits in, unless a top-level one such as /tmp that anything may name.
  const outside = path.dirname(projectRoot.replace(/\/$/, ""));
  const outsidePrefix = outside.split("/").length > 2 ? `${outside}/` : "";
  const escapes: string[] = [];
  for (const file of await projectFiles()) {
    const text = await readFile(file, "utf8");
    if (text.includes("\0")) continue; // binary
    const relative = path.relative(projectRoot, file);
    // A relative path that climbs above the repository root, from the file's own folder.
    for (const [reference] of text.matchAll(/(?:\.\.\/)+[\w.-]+/g)) {
      const target = path.resolve(path.dirname(file), reference);
      if (path.relative(projectRoot, target).startsWith("..")) escapes.push(`${relative}: ${reference}`);
    }
    // An absolute path into the folder the repository sits in.
    if (outsidePrefix && text.includes(outsidePrefix)) escapes.push(`${relative}: ${outsidePrefix}…`);
  }
  expect(escapes).toEqual([]);
});
