import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One graphql module for every package, or schemas from "another realm" are refused.
    alias: { graphql: require.resolve("graphql") },
  },
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Most of a test's time is spent waiting on servers (PostgreSQL, Redis, child processes), so two
    // files at a time use a 2-core machine better than the default of one fork per spare core.
    maxWorkers: 2,
    // A bound for hangs, not a speed goal: with two files at a time on a busy machine, a property
    // test of many flows (each through a real identity provider) can take tens of seconds.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ["test/helpers/global-setup.ts"],
  },
});
