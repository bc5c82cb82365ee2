import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { temporaryDataDir } from "../../harness/data-dir.js";
import { freePort } from "../../harness/process.js";

export interface LoadBalancer {
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * HAProxy (Debian's `haproxy`) in front of `servers`, configured as docs/deploy.md describes:
 * round robin, readiness checked every 300 ms (one failed check takes a server out), a request
 * whose connection failed sent to another server, a connection to a server per request (a pooled
 * one to a server that just died would lose the request sent on it). Each answer names the server
 * that gave it in `x-served-by` (`s1`, `s2`…), the load balancer's own errors included.
 */
export async function startHaproxy(servers: { baseUrl: string }[]): Promise<LoadBalancer> {
  const dir = await temporaryDataDir("users-haproxy-");
  const port = await freePort();
  const config = path.join(dir.dir, "haproxy.cfg");
  await writeFile(
    config,
    [
      "global",
      "  maxconn 2000",
      "defaults",
      "  mode http",
      "  timeout connect 1s",
      "  timeout client 30s",
      "  timeout server 30s",
      "  retries 3",
      "  option redispatch 1",
      "frontend users",
      `  bind 127.0.0.1:${port}`,
      "  default_backend subgraphs",
      "backend subgraphs",
      "  balance roundrobin",
      "  option httpchk GET /health/ready",
      "  http-check expect status 200",
      "  default-server inter 300ms fall 1 rise 2",
      "  option http-server-close",
      "  http-after-response set-header x-served-by %[srv_name]",
      ...servers.map(({ baseUrl }, index) => `  server s${index + 1} ${new URL(baseUrl).host} check`),
      "",
    ].join("\n"),
  );
  const haproxy = spawn("haproxy", ["-f", config, "-db"], { stdio: ["ignore", "ignore", "pipe"] });
  let errors = "";
  haproxy.stderr!.on("data", (chunk) => (errors += chunk));
  const stop = async () => {
    if (haproxy.exitCode === null && haproxy.signalCode === null) {
      const exited = new Promise((resolve) => haproxy.once("exit", resolve));
      haproxy.kill("SIGTERM");
      await exited;
    }
    await dir.remove();
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (haproxy.exitCode !== null) break;
    const ready = await fetch(`${baseUrl}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return { baseUrl, stop };
    await sleep(100);
  }
  await stop();
  throw new Error(`haproxy did not start:\n${errors}`);
}
