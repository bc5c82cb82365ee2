import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import { createDatabase } from "../src/db/prisma.js";
import { createLogger } from "../src/observability/logger.js";
import { startServer } from "../src/server.js";
import { signUp } from "./helpers/accounts.js";
import { createTestDatabase } from "./helpers/database.js";
import { run } from "../harness/process.js";
import { newAccount, startTestServer, testConfig } from "./helpers/server.js";

// `npm run admin -- …` runs exactly this.
const admin = (databaseUrl: string, ...args: string[]) =>
  run("node", ["--import", "tsx", "src/cli/admin.ts", ...args], { DATABASE_URL: databaseUrl, LOG_LEVEL: "silent" });
const grantAdmin = (databaseUrl: string, email: string) => admin(databaseUrl, "grant-admin", email);

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
      const again = await run("npm", ["run", "--silent", "admin", "--", "grant-admin", account.email], {
        DATABASE_URL: database.url,
      });
      expect(again).toEqual({ code: 0, output: `${account.email} is already an admin.\n` });

      expect((await server.database.user.findUniqueOrThrow({ where: { id } })).roles).toEqual(["admin"]);
      const events = await server.database.securityEvent.findMany({ where: { userId: id, kind: "roles_changed" } });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        actorId: null,
        ip: null,
        details: { added: ["admin"], removed: [], source: "cli" },
      });

      expect(await grantAdmin(database.url, "not an address")).toEqual({
        code: 2,
        output: 'Not an e-mail address: "not an address"\n',
      });
      // Only a bare address: not the account of the address a mail library would find in it.
      expect(await grantAdmin(database.url, `X<${account.email}>`)).toEqual({
        code: 2,
        output: `Not an e-mail address: "X<${account.email}>"\n`,
      });
      expect(await grantAdmin(database.url, `${account.email}\u0085`)).toEqual({
        code: 2,
        output: `Not an e-mail address: "${account.email}\\u{0085}"\n`,
      });
      expect((await run("node", ["--import", "tsx", "src/cli/admin.ts", "make-admin", account.email])).code).toBe(2);
    } finally {
      await server.close();
    }
  } finally {
    await database.drop();
  }
}, 180_000); // eight runs of the command, each a process of its own: slow on a loaded machine

it("applies ADMIN_EMAILS at start to the accounts that exist, and starts though some do not", async () => {
  const database = await createTestDatabase();
  try {
    const first = await startTestServer({ databaseUrl: database.url });
    const existing = await signUp(first);
    await first.close();

    const missing = newAccount("later");
    const config = testConfig({
      DATABASE_URL: database.url,
      ADMIN_EMAILS: ` ${existing.account.email.toUpperCase()} , ${missing.email}`,
    });
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

it("check-emails lists the accounts whose stored address the server would refuse, with control characters visible, and changes none", async () => {
  const database = await createTestDatabase();
  const client = createDatabase(database.url, { poolSize: 1 });
  try {
    expect(await admin(database.url, "check-emails")).toEqual({
      code: 0,
      output: "Every account's e-mail address is a bare, folded address.\n",
    });

    // As an older version (or a hand-written statement) could have stored them.
    const rows = [
      { email: "good@example.com", shown: null },
      { email: "x<evil@evil.example>", shown: '"x<evil@evil.example>"  not a bare address' },
      { email: "x:evil@example.com", shown: '"x:evil@example.com"  not a bare address' },
      { email: "x@example.com,evil", shown: '"x@example.com,evil"  not a bare address' },
      { email: "a\u001bb@example.com", shown: '"a\\u{001b}b@example.com"  not a bare address' },
      { email: "a\u0085b@example.com", shown: '"a\\u{0085}b@example.com"  not a bare address' },
      { email: "a\u2028b@example.com", shown: '"a\\u{2028}b@example.com"  not a bare address' },
      { email: 'q"@example.com ', shown: '"q\\"@example.com "  not a bare address' },
      { email: "Ada@example.com", shown: '"Ada@example.com"  not folded' },
    ].map((row, index) => ({ ...row, id: randomUUID(), username: `legacy${index}` }));
    for (const row of rows) {
      await client.$executeRaw`
        INSERT INTO users (id, email, username, username_key, password_hash, created_at, updated_at)
        VALUES (${row.id}::uuid, ${row.email}, ${row.username}, ${row.username}, 'hash', now(), now())`;
    }
    const listed = await admin(database.url, "check-emails");
    const offending = rows.filter((row) => row.shown).sort((a, b) => a.id.localeCompare(b.id));
    expect(listed).toEqual({
      code: 1,
      output: [
        "8 accounts have e-mail addresses the server would refuse now (no mail is sent to them):",
        ...offending.map((row) => `${row.id}  "${row.username}"  ${row.shown}`),
        "",
      ].join("\n"),
    });
    const stored = await client.user.findMany({ select: { id: true, email: true } });
    expect(new Map(stored.map((user) => [user.id, user.email]))).toEqual(
      new Map(rows.map((row) => [row.id, row.email])),
    );
    expect((await admin(database.url, "check-emails", "extra")).code).toBe(2);
  } finally {
    await client.$disconnect();
    await database.drop();
  }
}, 120_000);
