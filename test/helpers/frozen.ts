import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** The processes whose parent is `pid`, from /proc. */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // "pid (comm) state ppid …"; comm may hold spaces, so read after its closing parenthesis.
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (parent === pid) children.push(Number(entry));
  }
  return children;
}

/** Sends `signal` to a PostgreSQL cluster's postmaster and every backend it forked. */
export async function signalPostgresCluster(clusterDir: string, signal: "SIGSTOP" | "SIGCONT"): Promise<void> {
  const postmaster = Number((await readFile(path.join(clusterDir, "postmaster.pid"), "utf8")).split("\n")[0]);
  for (const pid of [postmaster, ...(await childrenOf(postmaster))]) process.kill(pid, signal);
}
