import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
export { freePort } from "../src/free-port.js";

export const projectRoot = fileURLToPath(new URL("..", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  output: () => string;
  /** Interrupts it as Ctrl-C would; its exit code. */
  stop(): Promise<number | null>;
  /** Its exit code, once it has exited. */
  exited: Promise<number | null>;
}

/**
 * Runs a command the way a user would, with only the given environment (plus PATH and HOME), and
 * waits until `ready` (a URL, or a request when it needs headers) answers 200.
 */
export async function startProcess(
  command: string,
  args: string[],
  environment: Record<string, string>,
  ready: string | Request,
  timeoutMs = 60_000,
  cwd = projectRoot,
): Promise<ServerProcess> {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...environment },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, as in a terminal
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // Ctrl-C in a terminal: SIGINT to the whole process group.
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGINT");
    return exited;
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}:\n${output}`);
    const answered = await fetch(ready).then(
      (response) => response.ok,
      () => false,
    );
    if (answered) return { child, output: () => output, stop, exited };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`${command} was not ready within ${timeoutMs} ms:\n${output}`);
}

/** Runs a command to completion; its exit code and output. */
export function run(
  command: string,
  args: string[],
  environment: Record<string, string> = {},
  cwd = projectRoot,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...environment },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("exit", (code) => resolve({ code, output }));
  });
}
