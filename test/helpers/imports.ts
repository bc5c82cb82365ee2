import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** The TypeScript files under `dir`, Prisma's generated client left out. */
export async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter(
      (entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.parentPath.includes(`${path.sep}generated`),
    )
    .map((entry) => path.join(entry.parentPath, entry.name));
}

export interface ModuleImport {
  specifier: string;
  /** `import type …`, `export type … from`, `typeof import(…)`: nothing of it is loaded at run time. */
  typeOnly: boolean;
}

// Each form captures whether it is type-only, then the specifier.
const importForms = [
  /^import\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gm,
  /^import\s+()"([^"]+)"/gm,
  /^export\s+(type\s+)?(?:\*|\{[^}]*\})(?:\s+as\s+\w+)?\s+from\s+"([^"]+)"/gm,
  /(typeof\s+)?\bimport\("([^"]+)"\)/g,
  /require\.resolve\(()"([^"]+)"\)/g,
];

/** What a source file imports: import and export-from statements, side-effect imports, import() and require.resolve(). */
export function importsOf(text: string): ModuleImport[] {
  return importForms.flatMap((form) =>
    [...text.matchAll(form)].map((match) => ({ specifier: match[2]!, typeOnly: Boolean(match[1]) })),
  );
}

export interface ImportEdge {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** Every import of one source file of `dir` by another (paths relative to `dir`); an import that names no file fails. */
export async function importEdges(dir: string): Promise<ImportEdge[]> {
  const edges: ImportEdge[] = [];
  for (const file of await sourceFiles(dir)) {
    for (const { specifier, typeOnly } of importsOf(await readFile(file, "utf8"))) {
      if (!specifier.startsWith(".")) continue;
      const target = path.resolve(path.dirname(file), specifier).replace(/\.js$/, ".ts");
      if (target.includes(`${path.sep}generated${path.sep}`)) continue;
      if (!existsSync(target)) throw new Error(`${path.relative(dir, file)} imports ${specifier}, which is no file`);
      edges.push({ from: path.relative(dir, file), to: path.relative(dir, target), typeOnly });
    }
  }
  return edges;
}

/** The import circles of a graph: each strongly connected component of more than one node, or a node importing itself. */
export function importCycles(edges: readonly { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  // Tarjan's algorithm, iterative so that a long chain of imports cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  for (const root of next.keys()) {
    if (index.has(root)) continue;
    const work: [string, number][] = [[root, 0]];
    while (work.length > 0) {
      const frame = work.at(-1)!;
      const [node, child] = frame;
      if (child === 0) {
        index.set(node, index.size);
        low.set(node, index.get(node)!);
        stack.push(node);
        onStack.add(node);
      }
      const targets = next.get(node) ?? [];
      if (child < targets.length) {
        frame[1]++;
        const target = targets[child]!;
        if (!index.has(target)) work.push([target, 0]);
        else if (onStack.has(target)) low.set(node, Math.min(low.get(node)!, index.get(target)!));
        continue;
      }
      work.pop();
      const parent = work.at(-1)?.[0];
      if (parent !== undefined) low.set(parent, Math.min(low.get(parent)!, low.get(node)!));
      if (low.get(node) !== index.get(node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || targets.includes(node)) circles.push(component.sort());
    }
  }
  return circles;
}
