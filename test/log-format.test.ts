import { describe, expect, it } from "vitest";
import { freePort, run } from "../harness/process.js";

// A start that fails fast, through the logger: PostgreSQL refuses the connection.
const failingStart = async () => ({
  DATABASE_URL: `postgresql://postgres:s3cret@127.0.0.1:${await freePort()}/users`,
  MIGRATE_ON_START: "true",
  DATA_DIR: "/nonexistent-data-dir",
});

describe("log output", () => {
  it("is readable lines on a terminal, as under npm start", async () => {
    // `script` gives the process a pseudo-terminal as its stdout.
    const { code, output } = await run(
      "script",
      ["-qec", "node --import tsx src/main.ts", "/dev/null"],
      await failingStart(),
    );
    expect(code).toBe(1);
    expect(output).toMatch(
      /FATAL.*could not start: could not migrate PostgreSQL at 127\.0\.0\.1:\d+\/users \(DATABASE_URL\)/,
    );
    expect(output).not.toMatch(/"level":|s3cret|\n\s+at /);
  });

  it("is one JSON object per line otherwise (pipes, log collectors), or when LOG_FORMAT=json", async () => {
    for (const environment of [await failingStart(), { ...(await failingStart()), LOG_FORMAT: "json" }]) {
      const { code, output } = await run("node", ["--import", "tsx", "src/main.ts"], environment);
      expect(code).toBe(1);
      const lines = output
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(lines.at(-1)).toMatchObject({
        level: 60,
        msg: expect.stringMatching(/^could not start: could not migrate PostgreSQL/),
      });
      expect(output).not.toContain("s3cret");
    }
  });
});
