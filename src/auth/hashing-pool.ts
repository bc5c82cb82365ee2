import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { concurrencyLimit, type QueueBounds } from "../concurrency.js";

export type HashingJob =
  | { operation: "hash"; password: string; options: Record<string, number> }
  | { operation: "verify"; passwordHash: string; password: string };

type Outcome = { value: string | boolean } | { error: string };

// Plain CommonJS evaluated in the worker, so the same pool runs from the build, tsx and vitest.
// Each worker hashes one password at a time, synchronously, so there are as many hashes at once as threads.
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const { hashSync, verifySync } = require(workerData.argon2);
try {
  // On Linux a thread's nice value is its own: this lowers the hashing thread, not the process.
  require("node:os").setPriority(workerData.niceness);
} catch {
  // Not permitted here: the thread runs at the process's priority.
}
const run = (job) => {
  if (job.operation === "hash") return hashSync(job.password, job.options);
  try {
    return verifySync(job.passwordHash, job.password);
  } catch {
    return false; // a malformed stored hash matches nothing
  }
};
parentPort.on("message", (job) => {
  try {
    parentPort.postMessage({ value: run(job) });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message) });
  }
});
`;

const argon2Module = createRequire(import.meta.url).resolve("@node-rs/argon2");

interface Thread {
  worker: Worker;
  /** The job it is hashing, if any. */
  current?: { resolve(value: string | boolean): void; reject(error: Error): void };
  idleTimer?: NodeJS.Timeout;
}

export interface HashingPoolOptions {
  /** Threads at most, hence hashes at once. */
  size: number;
  /** How many jobs may wait for a free thread, and how long: past either, a job fails with QueueFullError. */
  queue?: QueueBounds;
  /** A thread idle this long ends, and its memory (an isolate, ≈ 10 MB) goes back to the system. */
  idleMs: number;
  /** The threads' nice value: above the event loop's 0, so that the loop runs first whenever it has work. */
  niceness: number;
}

/**
 * argon2 on threads of their own, not on libuv's pool, where a login storm would queue the
 * process's file, DNS and WebCrypto work (JWT signing) behind the hashes. The threads run at a
 * lower priority than the event loop: during a storm every core hashes, yet a request that
 * arrives gets a core at once. Threads start on demand and end when idle; a thread that dies
 * fails only its own job.
 */
export class HashingPool {
  private readonly threads = new Set<Thread>();
  private readonly idle: Thread[] = [];
  private readonly limited: ReturnType<typeof concurrencyLimit>;

  constructor(private readonly options: HashingPoolOptions) {
    this.limited = concurrencyLimit(options.size, options.queue);
  }

  /**
   * Runs the job on a free thread, waiting (within the queue's bounds) for one when all `size` are
   * busy. Checks go before new hashes: a sign-in waits for one running hash at most, however many
   * registrations are queued, and a burst of them fills only their own queue.
   */
  run(job: HashingJob): Promise<string | boolean> {
    return this.limited(() => this.runOnThread(job), job.operation === "verify" ? 0 : 1);
  }

  /** Threads alive now, busy or idle. */
  get threadCount(): number {
    return this.threads.size;
  }

  private runOnThread(job: HashingJob): Promise<string | boolean> {
    // The limit keeps the threads busy at most `size`: an idle one is there, or room for one more.
    const thread = this.idle.pop() ?? this.start();
    clearTimeout(thread.idleTimer);
    // A busy thread keeps the process alive until its answer arrives; an idle one does not.
    thread.worker.ref();
    return new Promise((resolve, reject) => {
      thread.current = { resolve, reject };
      thread.worker.postMessage(job);
    });
  }

  private start(): Thread {
    const worker = new Worker(workerSource, {
      eval: true,
      // None of the process's own flags: no loader (tsx) to start, no --input-type to make the source a module.
      execArgv: [],
      workerData: { argon2: argon2Module, niceness: this.options.niceness },
    });
    const thread: Thread = { worker };
    this.threads.add(thread);
    worker.on("message", (outcome: Outcome) => {
      const job = thread.current!;
      thread.current = undefined;
      worker.unref();
      this.idle.push(thread);
      thread.idleTimer = setTimeout(() => this.retire(thread), this.options.idleMs).unref();
      if ("error" in outcome) job.reject(new Error(outcome.error));
      else job.resolve(outcome.value);
    });
    const lost = (error: Error) => {
      this.forget(thread);
      thread.current?.reject(error);
      thread.current = undefined;
    };
    worker.on("error", lost);
    worker.on("exit", (code) => lost(new Error(`a hashing thread exited with code ${code}`)));
    return thread;
  }

  private retire(thread: Thread): void {
    if (thread.current) return;
    this.forget(thread);
    void thread.worker.terminate();
  }

  private forget(thread: Thread): void {
    clearTimeout(thread.idleTimer);
    this.threads.delete(thread);
    const index = this.idle.indexOf(thread);
    if (index !== -1) this.idle.splice(index, 1);
  }
}
