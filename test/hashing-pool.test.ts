import { readdir, readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { HashingPool } from "../src/auth/hashing-pool.js";
import { run } from "../harness/process.js";

// argon2id at a cost too small for anything but tests.
const cheap = { algorithm: 2, memoryCost: 64, timeCost: 1, parallelism: 1 };

/** The nice values of this process's threads, from /proc (field 19 of each thread's stat). */
async function threadNiceValues(): Promise<number[]> {
  const tasks = await readdir("/proc/self/task");
  const stats = await Promise.all(
    tasks.map((task) => readFile(`/proc/self/task/${task}/stat`, "utf8").catch(() => "")),
  );
  return stats.filter(Boolean).map((stat) => Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]));
}

it("hashes and verifies on at most `size` threads, which end when idle and start again on demand", async () => {
  const pool = new HashingPool({ size: 2, idleMs: 100, niceness: 10 });
  const hashes = await Promise.all(
    Array.from({ length: 6 }, (_, i) => pool.run({ operation: "hash", password: `password ${i}`, options: cheap })),
  );
  expect(pool.threadCount).toBe(2);
  expect(new Set(hashes).size).toBe(6);
  expect(await pool.run({ operation: "verify", passwordHash: hashes[3] as string, password: "password 3" })).toBe(true);
  expect(await pool.run({ operation: "verify", passwordHash: hashes[3] as string, password: "password 4" })).toBe(
    false,
  );
  // A malformed stored hash matches nothing.
  expect(await pool.run({ operation: "verify", passwordHash: "not-a-hash", password: "password 3" })).toBe(false);

  for (let waited = 0; waited < 5000 && pool.threadCount > 0; waited += 50) await sleep(50);
  expect(pool.threadCount).toBe(0);
  expect(await pool.run({ operation: "verify", passwordHash: hashes[0] as string, password: "password 0" })).toBe(true);
  expect(pool.threadCount).toBe(1);
});

it("runs its threads below the event loop's priority", async () => {
  const pool = new HashingPool({ size: 1, idleMs: 5000, niceness: 7 });
  expect(await threadNiceValues()).not.toContain(7);
  await pool.run({ operation: "hash", password: "password", options: cheap });
  const niceValues = await threadNiceValues();
  expect(niceValues).toContain(7);
  // Only the hashing thread: the event loop's thread (the process's own id) keeps its priority.
  expect(niceValues.filter((nice) => nice === 7)).toHaveLength(1);
  const mainThread = await readFile("/proc/self/stat", "utf8");
  expect(Number(mainThread.slice(mainThread.lastIndexOf(")") + 2).split(" ")[16])).toBe(0);
});

it("fails a job that cannot run without failing the others", async () => {
  const pool = new HashingPool({ size: 2, idleMs: 1000, niceness: 10 });
  const outcomes = await Promise.allSettled([
    pool.run({ operation: "hash", password: "first", options: cheap }),
    // argon2 refuses a memory cost below 8 KiB per lane.
    pool.run({ operation: "hash", password: "second", options: { ...cheap, memoryCost: 1 } }),
    pool.run({ operation: "hash", password: "third", options: cheap }),
  ]);
  expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  expect(await pool.run({ operation: "hash", password: "after", options: cheap })).toMatch(/^\$argon2id\$/);
});

it("keeps the process alive while it hashes, and not once it is idle", async () => {
  const script = `
    import { HashingPool } from "./src/auth/hashing-pool.ts";
    const pool = new HashingPool({ size: 1, idleMs: 600000, niceness: 10 });
    pool.run({ operation: "hash", password: "password", options: ${JSON.stringify(cheap)} }).then((hash) => console.log(hash));
  `;
  // Were the idle thread to hold the process, it would run for ten minutes and fail the test's timeout.
  const { code, output } = await run("node", ["--import", "tsx", "--input-type=module", "-e", script]);
  expect(code, output).toBe(0);
  expect(output).toMatch(/^\$argon2id\$/);
});
