import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { useTestDatabase } from "./helpers/database.js";
import { testRedisUrl } from "./helpers/environment.js";
import { privateCheckout, type PrivateCheckout } from "./helpers/private-checkout.js";
import { run } from "../harness/process.js";

const database = useTestDatabase();
// From a checkout inside a mode-700 folder: its zero-configuration phase must start there too.
let checkout: PrivateCheckout;
beforeAll(async () => {
  checkout = await privateCheckout();
});
afterAll(() => checkout?.remove());

// A smoke test: the quick mode is too short for its figures to mean anything, and the machine
// is shared, so nothing here is about timing — only that every figure is produced.
it("npm run bench -- --quick produces every figure", async () => {
  const { code, output } = await run(
    "npm",
    ["run", "bench", "--", "--quick"],
    { DATABASE_URL: database().url, REDIS_URL: testRedisUrl },
    checkout.root,
  );
  expect(code, output).toBe(0);
  const file = /results in (\S+\.json)/.exec(output)?.[1];
  expect(file, output).toBeDefined();
  const results = JSON.parse(await readFile(path.join(checkout.root, file!), "utf8"));

  const rows: { id: string; label: string; value: number }[] = results.rows;
  expect(rows.map((row) => row.id)).toEqual([
    "meThroughputRatio",
    "entitiesSqlQueries",
    "entitiesLatencyRatio",
    "loginHashRatio",
    "passkeySignInRatio",
    "meStormTailRatio",
    "passwordResetTimingRatio",
    "zeroConfigStartSeconds",
    "rssMegabytes",
    "amplificationServerMs",
    "fragmentWalkServerMs",
    "entityListServerMs",
    "amplificationRssGrowth",
    "loginDuringRegistrationsMs",
    "meHangingWebhookTailRatio",
    "meHungMailTailRatio",
  ]);
  for (const row of rows) {
    expect(Number.isFinite(row.value), row.id).toBe(true);
    expect(output).toContain(row.label);
  }
  // Behaviour, not timing: one query however many entities are asked for.
  expect(rows.find((row) => row.id === "entitiesSqlQueries")!.value).toBe(1);
}, 180_000);

it("npm run bench -- --fleet --quick measures one, two and three instances", async () => {
  const { code, output } = await run(
    "npm",
    ["run", "bench", "--", "--fleet", "--quick"],
    { DATABASE_URL: database().url, REDIS_URL: testRedisUrl },
    checkout.root,
  );
  expect(code, output).toBe(0);
  const file = /results in (\S+\.json)/.exec(output)?.[1];
  expect(file, output).toBeDefined();
  const results = JSON.parse(await readFile(path.join(checkout.root, file!), "utf8"));
  const rows: { instances: number; meRequestsPerSecond: number; loginRequestsPerSecond: number }[] = results.rows;
  expect(rows.map((row) => row.instances)).toEqual([1, 2, 3]);
  for (const row of rows) {
    expect(row.meRequestsPerSecond, String(row.instances)).toBeGreaterThan(0);
    expect(row.loginRequestsPerSecond, String(row.instances)).toBeGreaterThan(0);
  }
  expect(output).toMatch(/scaling, 3 instances ÷ one: me \d/);
}, 240_000);
