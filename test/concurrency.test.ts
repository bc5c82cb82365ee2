import { setTimeout as sleep } from "node:timers/promises";
import { expect, it, vi } from "vitest";
import { concurrencyLimit, QueueFullError } from "../src/concurrency.js";

it("runs at most the limit at once, the rest in arrival order, through failures", async () => {
  const limited = concurrencyLimit(2);
  let running = 0;
  let mostAtOnce = 0;
  const started: number[] = [];
  const results = await Promise.allSettled(
    [0, 1, 2, 3, 4].map((index) =>
      limited(async () => {
        started.push(index);
        mostAtOnce = Math.max(mostAtOnce, ++running);
        await sleep(5);
        running--;
        if (index === 1) throw new Error("task 1 fails");
        return index;
      }),
    ),
  );
  expect(mostAtOnce).toBe(2);
  expect(started).toEqual([0, 1, 2, 3, 4]);
  expect(results.map((result) => result.status)).toEqual([
    "fulfilled",
    "rejected",
    "fulfilled",
    "fulfilled",
    "fulfilled",
  ]);
});

it("refuses at once what would wait beyond the queue limit, and takes tasks again once it drains", async () => {
  const limited = concurrencyLimit(1, { maxWaiting: 2 });
  const release: (() => void)[] = [];
  const task = () => new Promise<string>((resolve) => release.push(() => resolve("done")));
  const accepted = [limited(task), limited(task), limited(task)];
  await expect(limited(task)).rejects.toBeInstanceOf(QueueFullError);
  for (const result of accepted) {
    // Each task starts only when the one before it has finished.
    await vi.waitFor(() => expect(release).toHaveLength(1));
    release.shift()!();
    await expect(result).resolves.toBe("done");
  }
  await expect(limited(async () => "again")).resolves.toBe("again");
});

it("refuses a task that waited past maxWaitMs, and hands the slot on to the next in line", async () => {
  const limited = concurrencyLimit(1, { maxWaitMs: 50 });
  let release!: () => void;
  const blocker = limited(() => new Promise<void>((resolve) => (release = resolve)));
  const waited = limited(async () => "ran");
  await expect(waited).rejects.toBeInstanceOf(QueueFullError);
  const next = limited(async () => "next");
  release();
  await blocker;
  await expect(next).resolves.toBe("next");
});

it("gives a free slot to the lowest lane first, and bounds each lane's queue apart (20 trials)", async () => {
  for (let trial = 0; trial < 20; trial++) {
    const limited = concurrencyLimit(1, { maxWaiting: 3 });
    const release: (() => void)[] = [];
    const started: string[] = [];
    const task = (name: string) => () =>
      new Promise<string>((resolve) => {
        started.push(name);
        release.push(() => resolve(name));
      });
    const running = limited(task("first"), 1);
    const burst = [limited(task("b1"), 1), limited(task("b2"), 1), limited(task("b3"), 1)];
    // Lane 1's queue is full; lane 0's is not, and its tasks go before every waiting one of lane 1.
    await expect(limited(task("refused"), 1)).rejects.toBeInstanceOf(QueueFullError);
    const urgent = [limited(task("u1")), limited(task("u2"))];
    const all = [running, ...urgent, ...burst];
    while (started.length < 6) {
      await vi.waitFor(() => expect(release.length).toBeGreaterThan(0));
      release.shift()!();
      await Promise.race([...all, sleep(1)]);
    }
    release.shift()!();
    await Promise.all(all);
    expect(started).toEqual(["first", "u1", "u2", "b1", "b2", "b3"]);
  }
});
