import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

export interface TemporaryDataDir {
  dir: string;
  remove(): Promise<void>;
}

/**
 * A fresh directory for an embedded PostgreSQL (or a whole DATA_DIR). As root, PostgreSQL runs as
 * the `postgres` user, which must be able to enter it.
 */
export async function temporaryDataDir(prefix: string): Promise<TemporaryDataDir> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
