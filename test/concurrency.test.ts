import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { concurrencyLimit } from "../src/concurrency.js";

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
  expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled", "fulfilled"]);
});
