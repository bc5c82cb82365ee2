import pg from "pg";
import { expect } from "vitest";
import type { DeliveredMail, TestMailServer } from "../../harness/mail-servers.js";
import type { TestServer } from "./server.js";

/** The outbox messages about an account, oldest first: type and body (events) or `mail`. */
export async function outboxMessagesOf(
  server: TestServer,
  userId: string,
): Promise<{ id: string; type: string; body: string | null }[]> {
  return server.database.$queryRaw`SELECT m.id::text, m.type, m.body FROM outbox_messages m
    WHERE m.user_id = ${userId}::uuid
    ORDER BY (SELECT min(d.id) FROM outbox_deliveries d WHERE d.message_id = m.id)`;
}

/** The event types written for an account, oldest first (mail left out). */
export async function eventTypesOf(server: TestServer, userId: string): Promise<string[]> {
  return (await outboxMessagesOf(server, userId))
    .filter((message) => message.type !== "mail")
    .map((message) => message.type);
}

/** Waits (bounded) until no delivery is pending: everything queued so far was delivered or given up. */
export async function outboxSettled(server: TestServer, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await server.database.$queryRaw<{ pending: number }[]>`
      SELECT count(*)::int AS pending FROM outbox_deliveries WHERE status = 'pending'`;
    const pending = rows[0]!.pending;
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`${pending} outbox deliveries still pending after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The one mail with `subject` that `mail` received for `address`, once everything queued so far
 * went out: mail goes out after its operation and in no set order, so counting arrivals tells
 * nothing of which came last.
 */
export async function deliveredMail(
  server: TestServer,
  mail: TestMailServer,
  address: string,
  subject: string,
): Promise<DeliveredMail> {
  await outboxSettled(server);
  const matching = mail.to(address).filter((message) => message.subject === subject);
  expect(matching.map((message) => message.subject)).toEqual([subject]);
  return matching[0]!;
}

/** A statement on the server's database, from outside the server. */
export async function sqlOutside(server: TestServer, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.database.pool.options.connectionString });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Fails every transaction that writes an outbox message of `type` (a user event, or `mail`) while
 * `work` runs, at its commit: after every statement of the action ran, the outbox row included.
 */
export async function failCommitsWriting(server: TestServer, type: string, work: () => Promise<void>): Promise<void> {
  await sqlOutside(
    server,
    `CREATE FUNCTION fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'commit refused'; END; $$`,
  );
  await sqlOutside(
    server,
    `CREATE CONSTRAINT TRIGGER fail_commit AFTER INSERT ON outbox_messages DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW WHEN (NEW.type = '${type}') EXECUTE FUNCTION fail_commit()`,
  );
  try {
    await work();
  } finally {
    await sqlOutside(server, "DROP TRIGGER IF EXISTS fail_commit ON outbox_messages");
    await sqlOutside(server, "DROP FUNCTION IF EXISTS fail_commit()");
  }
}
