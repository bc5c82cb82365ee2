import { readFile } from "node:fs/promises";
import path from "node:path";
import semver from "semver";
import { expect, it } from "vitest";
import { projectRoot } from "../harness/process.js";

const manifest = JSON.parse(await readFile(path.join(projectRoot, "package.json"), "utf8"));
/** What the lockfile says of each installed package (the project itself under ""). */
interface LockedPackage {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  engines?: { node?: unknown };
}
const lock = JSON.parse(await readFile(path.join(projectRoot, "package-lock.json"), "utf8")) as {
  packages: Record<string, LockedPackage>;
};
/** The oldest release of each supported Node line. */
const supportedLines = ["20.19.0", "22.12.0", "24.0.0"];

it("states the supported Node lines in engines", () => {
  for (const version of supportedLines) expect(semver.satisfies(version, manifest.engines.node), version).toBe(true);
  for (const unsupported of ["18.20.0", "20.18.0", "21.7.0", "23.0.0"]) {
    expect(semver.satisfies(unsupported, manifest.engines.node), unsupported).toBe(false);
  }
});

// Production installs only these (npm ci --omit=dev); an engines range one of them does not
// meet is an EBADENGINE warning on that line, and code written for a newer Node.
it("installs no runtime dependency whose engines exclude a supported Node line", () => {
  const refusing: string[] = [];
  for (const [location, entry] of Object.entries(lock.packages)) {
    if (location === "" || entry.dev || entry.devOptional || typeof entry.engines?.node !== "string") continue;
    for (const version of supportedLines) {
      if (!semver.satisfies(version, entry.engines.node))
        refusing.push(`${location}@${entry.version} (${entry.engines.node}) on ${version}`);
    }
  }
  expect(refusing).toEqual([]);
});
