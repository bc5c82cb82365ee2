import path from "node:path";
import { describe, expect, it } from "vitest";
import { importCycles, importEdges, type ImportEdge } from "./helpers/imports.js";
import { projectRoot } from "../harness/process.js";

const src = path.join(projectRoot, "src");

/**
 * The floor every feature builds on. A generic room (a folder of src/, or a file at its root) knows
 * no feature: it imports generic rooms only, so that features can be added, moved or removed
 * without touching it. Every room listed neither here nor in `top` is a feature: accounts,
 * sessions, mfa… and any folder added later.
 */
const generic = new Set([
  "auth",
  "db",
  "errors",
  "generated",
  "graphql",
  "http",
  "observability",
  "store",
  "types",
  "clock.ts",
  "concurrency.ts",
  "free-port.ts",
  "startup-error.ts",
]);

/**
 * The entry points, the composition root and the configuration, which reads the settings of every
 * floor: they wire the features together, and nothing below them imports them.
 */
const top = new Set([
  "app.ts",
  "cli",
  "config",
  "main.ts",
  "purges.ts",
  "server.ts",
  "services.ts",
  "subgraph-schema.ts",
]);

/**
 * Imports from a generic room into a feature that may stay: each type-only, with its reason. At
 * most five; none today.
 */
const allowedUpward: { from: string; to: string; reason: string }[] = [];

const roomOf = (file: string) => file.split(path.sep)[0]!;
const named = (edge: ImportEdge) => `${edge.from} -> ${edge.to}`;
const edges = await importEdges(src);

describe("the layers of src/", () => {
  it("has no import circle between files, type-only imports included", () => {
    expect(importCycles(edges)).toEqual([]);
  });

  it("has no import circle between rooms", () => {
    const between = edges
      .filter((edge) => roomOf(edge.from) !== roomOf(edge.to))
      .map((edge) => ({ from: roomOf(edge.from), to: roomOf(edge.to) }));
    expect(importCycles(between)).toEqual([]);
  });

  it("generic rooms import generic rooms only, type-only imports included", () => {
    const upward = edges.filter((edge) => generic.has(roomOf(edge.from)) && !generic.has(roomOf(edge.to)));
    const allowed = new Set(allowedUpward.map((edge) => `${edge.from} -> ${edge.to}`));
    expect(upward.map(named).filter((edge) => !allowed.has(edge))).toEqual([]);
    for (const edge of allowedUpward) {
      expect(
        upward.find((actual) => named(actual) === `${edge.from} -> ${edge.to}`),
        `${edge.from} -> ${edge.to}`,
      ).toMatchObject({ typeOnly: true });
    }
    expect(allowedUpward.length).toBeLessThanOrEqual(5);
  });

  it("nothing below the top imports it", () => {
    const intoTop = edges.filter((edge) => top.has(roomOf(edge.to)) && !top.has(roomOf(edge.from)));
    expect(intoTop.map(named)).toEqual([]);
  });

  it("knows every room it classifies", () => {
    const rooms = new Set(edges.flatMap((edge) => [roomOf(edge.from), roomOf(edge.to)]));
    for (const room of [...generic, ...top])
      if (room !== "generated" && room !== "types") expect(rooms, room).toContain(room);
  });
});
