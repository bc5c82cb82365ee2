import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { temporaryDataDir, type TemporaryDataDir } from "../harness/data-dir.js";
import { graphql, mutations } from "../harness/graphql.js";
import { linkToken, parseMail } from "./helpers/mail.js";
import { freePort, startProcess, type ServerProcess } from "../harness/process.js";
import { newAccount } from "./helpers/server.js";

// The newcomer's path, as in zero-config.test.ts: no SMTP_URL, so mail lands in DATA_DIR/mail/
// and the log says which file to open.
let dataDir: string;
let temporary: TemporaryDataDir | undefined;
let running: ServerProcess | undefined;
beforeAll(async () => {
  temporary = await temporaryDataDir("users-subgraph-mail-");
  dataDir = temporary.dir;
});
afterAll(async () => {
  await running?.stop();
  await temporary?.remove();
});

/** The `.eml` file the log names for the newest mail with this subject, parsed. */
async function mailFromLog(output: string, subject: string) {
  const entries = output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { msg: string; file?: string; subject?: string });
  const entry = entries.filter((candidate) => candidate.subject === subject).at(-1);
  if (!entry?.file) throw new Error(`no log line names a mail "${subject}"`);
  expect(entry.msg).toBe(`mail written to ${entry.file}`);
  expect(path.dirname(entry.file)).toBe(path.join(dataDir, "mail"));
  return parseMail(await readFile(entry.file));
}

it("npm start with no configuration: a password reset works end to end through the .eml files", async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  running = await startProcess("npm", ["start"], { DATA_DIR: dataDir, PORT: String(port) }, `${base}/health/ready`);
  await vi.waitFor(() => expect(running!.output()).toMatch(/users subgraph ready/), { timeout: 5_000 });
  expect(running.output()).toContain(`.eml files in ${path.join(dataDir, "mail")}`);
  const url = `${base}/graphql`;

  const account = newAccount("zeromail");
  expect((await graphql(url, mutations.register, { input: account })).errors).toBeUndefined();
  const verification = await vi.waitFor(() => mailFromLog(running!.output(), "Confirm your e-mail address"), {
    timeout: 5_000,
  });
  expect(verification.to).toEqual([account.email]);
  expect(linkToken(verification, "verify-email")).toMatch(/^[A-Za-z0-9_-]{43}$/);

  expect((await graphql(url, lifecycle.requestPasswordReset, { email: account.email })).data).toEqual({
    requestPasswordReset: true,
  });
  // The answer comes before the mail is written.
  const resetMail = await vi.waitFor(() => mailFromLog(running!.output(), "Reset your password"), { timeout: 5_000 });
  expect(resetMail.text).toContain("http://localhost:3000/reset-password?token=");
  const newPassword = `${account.password} after reset`;
  const reset = await graphql(url, lifecycle.resetPassword, {
    token: linkToken(resetMail, "reset-password"),
    newPassword,
  });
  expect(reset.data).toEqual({ resetPassword: true });

  const login = (password: string) =>
    graphql(url, mutations.login, { input: { usernameOrEmail: account.email, password } });
  expect((await login(account.password)).errors?.[0]?.extensions?.code).toBe("INVALID_CREDENTIALS");
  expect((await login(newPassword)).errors).toBeUndefined();
  await vi.waitFor(() => mailFromLog(running!.output(), "Your password was changed"), { timeout: 5_000 });
  // No token ever reaches the log.
  expect(running.output()).not.toContain(linkToken(resetMail, "reset-password"));
  await running.stop(); // npm itself ends by the signal; the server shuts down cleanly
  expect(running.output()).toMatch(/shutting down/);
  running = undefined;
}, 120_000);
