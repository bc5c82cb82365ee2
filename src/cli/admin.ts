// Account administration from the command line, without SQL and before any admin exists:
//   node dist/cli/admin.js grant-admin <email>      (in a checkout: npm run admin -- grant-admin <email>)
//   node dist/cli/admin.js check-emails             (lists stored addresses the server would refuse now)
// It uses the database the server would (DATABASE_URL, else the embedded one under DATA_DIR, the
// running server's if there is one) and applies pending migrations first where the server would.
import { grantAdmin } from "../admin/bootstrap.js";
import { findNonBareEmails } from "../admin/email-check.js";
import { SecurityEvents } from "../audit/security-events.js";
import { systemClock } from "../clock.js";
import { loadConfigOrExit } from "../config/config.js";
import { openDatabase, type OpenedDatabase } from "../db/open-database.js";
import { primaryOnly } from "../db/read-replicas.js";
import type { Database } from "../db/prisma.js";
import { AppError } from "../errors/errors.js";
import { outboxFor } from "../events/event-outbox.js";
import { createLogger } from "../observability/logger.js";
import { quotedVisible } from "../observability/visible-text.js";
import { foldIdentifier, isEmailAddress } from "../users/identity.js";

const usage = `usage: admin grant-admin <email>   makes the account with this e-mail address an admin
       admin check-emails          lists the accounts whose stored e-mail address the server would refuse now`;

const [command, ...args] = process.argv.slice(2);
const email = args[0] ?? "";
if (!((command === "grant-admin" && args.length === 1 && email) || (command === "check-emails" && args.length === 0))) {
  console.error(usage);
  process.exit(2);
}
if (command === "grant-admin" && !isEmailAddress(foldIdentifier(email))) {
  console.error(`Not an e-mail address: ${quotedVisible(email)}`);
  process.exit(2);
}

/** 0: granted or already an admin; 1: no account has the address. */
async function grantAdminCommand(database: Database): Promise<number> {
  // The grant's user.roles_changed event waits in the outbox for a server to deliver it.
  const follow = outboxFor(config.events, systemClock).follow;
  const audit = new SecurityEvents(database, systemClock, primaryOnly(database), follow);
  const outcome = await grantAdmin(database, audit, email, "cli");
  if (outcome === "no such account") {
    console.error(`No account has the e-mail address ${email}: register it first, then run this again.`);
    return 1;
  }
  console.log(outcome === "granted" ? `${email} is now an admin.` : `${email} is already an admin.`);
  return 0;
}

/** 0: every stored address is one the server accepts; 1: some are not (listed, never changed). */
async function checkEmailsCommand(database: Database): Promise<number> {
  const found = await findNonBareEmails(database);
  if (found.length === 0) {
    console.log("Every account's e-mail address is a bare, folded address.");
    return 0;
  }
  console.log(
    `${found.length} account${found.length === 1 ? " has an e-mail address" : "s have e-mail addresses"} the server would refuse now (no mail is sent to them):`,
  );
  for (const user of found)
    console.log(`${user.id}  ${quotedVisible(user.username)}  ${quotedVisible(user.email)}  ${user.problem}`);
  return 1;
}

const config = loadConfigOrExit();

const logger = createLogger(config.logLevel === "silent" ? "silent" : "warn");
let opened: OpenedDatabase | undefined;
let status = 0;
try {
  opened = await openDatabase(config, logger, { joinRunning: true, migrate: config.migrateOnStart, poolSize: 1 });
  status =
    command === "grant-admin" ? await grantAdminCommand(opened.database) : await checkEmailsCommand(opened.database);
} catch (error) {
  console.error(
    error instanceof AppError
      ? error.message
      : `Could not ${command === "grant-admin" ? "grant admin" : "check the addresses"}: ${(error as Error).message}`,
  );
  status = 1;
} finally {
  await opened?.close();
}
process.exit(status);
