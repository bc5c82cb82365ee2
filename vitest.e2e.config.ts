import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

// `npm run test:e2e`: the example web app driven in headless Chromium. Apart from `npm test`, which
// needs no browser; the same servers (TEST_DATABASE_URL / TEST_REDIS_URL, or its own).
export default defineConfig({
  resolve: { alias: { graphql: require.resolve("graphql") } },
  test: {
    include: ["test-e2e/**/*.test.ts"],
    pool: "forks",
    // One browser and one example at a time: the machine's cores go to Chromium and the servers.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    globalSetup: ["test/helpers/global-setup.ts"],
  },
});
