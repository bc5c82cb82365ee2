import { expect, it } from "vitest";
import { createDatabase } from "../src/db/prisma.js";
import { createLogger } from "../src/observability/logger.js";
import { startServer } from "../src/server.js";
import { signUp } from "./helpers/accounts.js";
import { createTestDatabase } from "./helpers/database.js";
import { run } from "../harness/process.js";
import { newAccount, startTestServer, testConfig } from "./helpers/server.js";

// `npm run admin -- grant-admin …` runs exactly this.
const grantAdmin = (databaseUrl: string, email: string) =>
  run("node", ["--import", "tsx", "src/cli/admin.ts", "grant-admin", email], { DATABASE_URL: databaseUrl, LOG_LEVEL: "silent" });

it("grants admin from the command line on a fresh database, idempotently", async () => {
  const database = await createTestDatabase({ migrated: false });
  try {
    const account = newAccount("first");
    // Not even migrated yet: the command migrates, then says what is missing.
    const early = await grantAdmin(database.url, account.email);
    expect(early).toMatchObject({ code: 1 });
    expect(early.output).toContain(`No account has the e-mail address ${account.email}`);

    const server = await startTestServer({ databaseUrl: database.url });
    try {
      const { id } = (await server.app.services.accounts.register(account)).user;
      const granted = await grantAdmin(database.url, account.email.toUpperCase());
      expect(granted).toEqual({ code: 0, output: `${account.email.toUpperCase()} is now an admin.\n` });
      const again = await run("npm", ["run", "--silent", "admin", "--", "grant-admin", account.email], { DATABASE_URL: database.url });
      expect(again).toEqual({ code: 0, output: `${account.email} is already an admin.\n` });

      expect((await server.database.user.findUniqueOrThrow({ where: { id } })).roles).toEqual(["admin"]);
      const events = await server.database.securityEvent.findMany({ where: { userId: id, kind: "roles_changed" } });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actorId: null, ip: null, details: { added: ["admin"], removed: [], source: "cli" } });

      expect(await grantAdmin(database.url, "not an address")).toEqual({ code: 2, output: "Not an e-mail address: not an address\n" });
      expect((await run("node", ["--import", "tsx", "src/cli/admin.ts", "make-admin", account.email])).code).toBe(2);
    } finally {
      await server.close();
    }
  } finally {
    await database.drop();
  }
}, 120_000); // six runs of the command, each a process of its own: slow on a loaded machine

it("applies ADMIN_EMAILS at start to the accounts that exist, and starts though some do not", async () => {
  const database = await createTestDatabase();
  try {
    const first = await startTestServer({ databaseUrl: database.url });
    const existing = await signUp(first);
    await first.close();

    const missing = newAccount("later");
    const config = testConfig({ DATABASE_URL: database.url, ADMIN_EMAILS: ` ${existing.account.email.toUpperCase()} , ${missing.email}` });
    for (let start = 0; start < 2; start++) {
      const running = await startServer(config, createLogger("silent"));
      await running.stop();
    }
    const client = createDatabase(database.url, { poolSize: 1 });
    try {
      expect((await client.user.findUniqueOrThrow({ where: { id: existing.id } })).roles).toEqual(["admin"]);
      expect(await client.securityEvent.count({ where: { userId: existing.id, kind: "roles_changed" } })).toBe(1);
    } finally {
      await client.$disconnect();
    }
  } finally {
    await database.drop();
  }
});
