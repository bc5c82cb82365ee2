import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect, it } from "vitest";
import { functionSizes, lineCount } from "./helpers/code-size.js";
import { sourceFiles } from "./helpers/imports.js";
import { projectRoot } from "../harness/process.js";

const maxFileLines = 300;
const maxFunctionLines = 80;

const measured = await Promise.all(
  ["src", "bench"].map(async (dir) =>
    Promise.all(
      (await sourceFiles(path.join(projectRoot, dir))).map(async (file) => {
        const text = await readFile(file, "utf8");
        return { file: path.relative(projectRoot, file), lines: lineCount(text), functions: functionSizes(file, text) };
      }),
    ),
  ),
).then((groups) => groups.flat());

it(`no file of src/ or bench/ is longer than ${maxFileLines} lines`, () => {
  const long = measured.filter(({ lines }) => lines > maxFileLines).map(({ file }) => file);
  expect(long).toEqual([]);
});

it(`no function of src/ or bench/ has a body longer than ${maxFunctionLines} lines`, () => {
  const long = measured.flatMap(({ file, functions }) =>
    functions.filter(({ lines }) => lines > maxFunctionLines).map(({ name }) => `${file}: ${name}`),
  );
  expect(long).toEqual([]);
});

it("measures what it is meant to", () => {
  expect(measured.map(({ file }) => file)).toEqual(
    expect.arrayContaining(["src/app.ts", "src/sessions/sessions.service.ts", "bench/run.ts"]),
  );
  expect(measured.some(({ file }) => file.includes("generated"))).toBe(false);
  const sessions = measured.find(({ file }) => file === "src/sessions/sessions.service.ts")!;
  expect(sessions.functions.map(({ name }) => name)).toEqual(
    expect.arrayContaining(["login", "refresh", "authenticate"]),
  );
});
