import { stat } from "node:fs/promises";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { graphql, mutations } from "../harness/graphql.js";
import { privateCheckout, type PrivateCheckout } from "./helpers/private-checkout.js";
import { freePort, startProcess, type ServerProcess } from "../harness/process.js";
import { newAccount } from "./helpers/server.js";

// A checkout in a folder only its owner may enter, started as its owner — root, in a container —
// would: PostgreSQL refuses root and runs as an unprivileged user, who cannot enter that folder.
let checkout: PrivateCheckout;
let running: ServerProcess | undefined;
beforeAll(async () => {
  checkout = await privateCheckout();
});
afterAll(async () => {
  await running?.stop();
  await checkout?.remove();
});

it("npm start works from a checkout inside a mode-700 folder, and keeps its data across restarts", async () => {
  expect((await stat(`${checkout.root}/..`)).mode & 0o777).toBe(0o700);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const start = () =>
    startProcess("npm", ["start"], { PORT: String(port) }, `${base}/health/ready`, 60_000, checkout.root);

  running = await start();
  await vi.waitFor(() => expect(running!.output()).toMatch(/users subgraph ready/), { timeout: 5_000 });
  expect(running.output()).not.toMatch(/EACCES|\n\s+at /);
  const account = newAccount("private");
  expect((await graphql(`${base}/graphql`, mutations.register, { input: account })).errors).toBeUndefined();
  await running.stop();

  running = await start();
  const login = await graphql(`${base}/graphql`, mutations.login, {
    input: { usernameOrEmail: account.username, password: account.password },
  });
  expect(login.errors).toBeUndefined();
  await running.stop();
  running = undefined;
}, 120_000);
