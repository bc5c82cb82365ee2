import { createHash } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDatabase, type Database } from "../src/db/prisma.js";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { logIn, signUp } from "./helpers/accounts.js";
import { useTestDatabase } from "./helpers/database.js";
import { errorCodes, mutations, type GraphQLResponse } from "../harness/graphql.js";
import { HungMailServer, linkToken, TestMailServer } from "./helpers/mail.js";
import { outboxSettled } from "./helpers/outbox.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

// A mail server that accepts connections and never answers, under a burst of registrations and
// mail requests: no request waits for it, none fails, no database connection waits on it; the
// mails go out once it answers again.
const testDatabase = useTestDatabase();
let hung: HungMailServer;
let mail: TestMailServer | undefined;
let database: Database;
let server: TestServer;
beforeAll(async () => {
  hung = await HungMailServer.start();
  // A small pool, as tight as a busy instance's: a mail transaction held open would exhaust it.
  database = createDatabase(testDatabase().url, { poolSize: 4, timeouts: { statementMs: 5_000, connectMs: 3_000 } });
  server = await startTestServer({
    databaseUrl: testDatabase().url,
    database,
    config: { SMTP_URL: hung.url, SMTP_TIMEOUT: "1s", MAIL_REQUESTS_PER_HOUR: "1000" },
  });
});
afterAll(async () => {
  await server?.close();
  await database?.$disconnect();
  await hung?.close();
  await mail?.close();
});

/** Connections of this database that sit inside a transaction, waiting on the application. */
async function idleInTransaction(): Promise<number> {
  const rows = await server.database.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`;
  return rows[0]!.count;
}

it("answers 30 registers and 30 mail requests, and others' me and login, while the mail server hangs; the mails go out once it answers", async () => {
  const requesters = await Promise.all(Array.from({ length: 5 }, () => signUp(server, "asker")));
  const bystanders = await Promise.all(Array.from({ length: 5 }, () => signUp(server, "bystander")));
  await expect.poll(() => hung.connections, { timeout: 10_000 }).toBeGreaterThan(0);

  let bursting = true;
  const registrations = Array.from({ length: 30 }, () => newAccount("burst"));
  const burst = Promise.all([
    ...registrations.map((account) => server.request(mutations.register, { input: account })),
    ...Array.from({ length: 30 }, (_, index) =>
      server.request(lifecycle.requestEmailVerification, {}, { token: requesters[index % 5]!.accessToken }),
    ),
  ]).finally(() => (bursting = false));
  const others: GraphQLResponse[] = [];
  const transactionsWaiting: number[] = [];
  const meanwhile = (async () => {
    while (bursting || others.length < 20) {
      const user = bystanders[others.length % bystanders.length]!;
      others.push(await server.request(mutations.me, {}, { token: user.accessToken }));
      others.push(await logIn(server, user.account));
      transactionsWaiting.push(await idleInTransaction());
    }
  })();
  const answers = await burst;
  await meanwhile;

  for (const answer of answers) expect(answer.errors).toBeUndefined();
  for (const answer of others) expect(errorCodes(answer)).toEqual([]);
  expect(Math.max(...transactionsWaiting)).toBe(0);
  // Meanwhile the worker was at the hung server, and nothing was delivered.
  expect(hung.connections).toBeGreaterThan(0);
  const pending = await server.database.outboxDelivery.count({ where: { receiver: "mail", status: "pending" } });
  expect(pending).toBe(5 + 5 + 30 + 30);

  // The sealed mails, as they wait: no link, address or name in clear.
  const waiting = await server.database.outboxMessage.findMany({
    where: { type: "mail" },
    select: { mailCiphertext: true, linkTokenHash: true },
  });
  expect(waiting.every((message) => message.mailCiphertext !== null)).toBe(true);

  const port = hung.port;
  await hung.close();
  mail = await TestMailServer.start({ port });
  await outboxSettled(server, 60_000);
  expect(mail.received).toHaveLength(70);
  for (const account of registrations)
    expect(mail.to(account.email).map((message) => message.subject)).toEqual(["Confirm your e-mail address"]);
  for (const requester of requesters) expect(mail.to(requester.account.email)).toHaveLength(7);

  // The outbox held each link only sealed (and its hash); of a requester's seven links, one works (the newest:
  // each request replaced the link before; mails go out in no particular order).
  const stored = JSON.stringify(waiting);
  for (const requester of requesters) {
    const links = mail.to(requester.account.email).map((message) => linkToken(message, "verify-email"));
    for (const token of links) {
      expect(stored).not.toContain(token);
      expect(waiting.map((message) => message.linkTokenHash)).toContain(
        createHash("sha256").update(token).digest("hex"),
      );
    }
    expect(stored).not.toContain(requester.account.email);
    const verified = await Promise.all(links.map((token) => server.request(lifecycle.verifyEmail, { token })));
    expect(verified.filter((response) => response.data?.verifyEmail === true)).toHaveLength(1);
  }
  // Once delivered, nothing of a mail is kept but its link's hash.
  expect(await server.database.outboxMessage.count({ where: { type: "mail", mailCiphertext: { not: null } } })).toBe(0);
}, 120_000);
