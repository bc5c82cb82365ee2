import { access } from "node:fs/promises";
import { chromium, type Browser } from "playwright-core";

/** Debian's `chromium` (CI installs it); another build with CHROMIUM_PATH. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Headless Chromium; fails, never skips, when there is none. */
export async function launchChromium(): Promise<Browser> {
  await access(chromiumPath).catch(() => {
    throw new Error(`no Chromium at ${chromiumPath}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
  });
  return chromium.launch({
    executablePath: chromiumPath,
    // Bounded: a browser that does not come up fails the file instead of holding the run.
    timeout: 60_000,
    args: [
      // Chromium refuses to run as root with its sandbox on (a container's CI).
      ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
      // Nothing but the pages under test goes to the network: a CI machine may have none.
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
      "--disable-gpu",
    ],
  });
}
