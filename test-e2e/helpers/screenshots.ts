import { mkdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { projectRoot } from "../../harness/process.js";

/** `npm run screenshots` writes them where the README shows them; other runs take them all the same, into the system's temporary folder. */
const directory = path.join(
  ...(process.env.UPDATE_SCREENSHOTS ? [projectRoot, "docs"] : [tmpdir(), "users-subgraph-e2e"]),
  "screenshots",
);
await mkdir(directory, { recursive: true });

export async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(directory, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect((await readFile(file)).subarray(1, 4).toString()).toBe("PNG");
}
