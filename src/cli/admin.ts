// Account administration from the command line, without SQL and before any admin exists:
//   node dist/cli/admin.js grant-admin <email>      (in a checkout: npm run admin -- grant-admin <email>)
// It uses the database the server would (DATABASE_URL, else the embedded one under DATA_DIR, the
// running server's if there is one) and applies pending migrations first where the server would.
import { grantAdmin } from "../admin/bootstrap.js";
import { SecurityEvents } from "../audit/security-events.js";
import { systemClock } from "../clock.js";
import { loadConfigOrExit } from "../config/config.js";
import { openDatabase, type OpenedDatabase } from "../db/open-database.js";
import { AppError } from "../errors/errors.js";
import { createLogger } from "../observability/logger.js";
import { foldIdentifier, isEmailAddress } from "../users/identity.js";

const usage = "usage: admin grant-admin <email>   makes the account with this e-mail address an admin";

const [command, email, ...extra] = process.argv.slice(2);
if (command !== "grant-admin" || !email || extra.length > 0) {
  console.error(usage);
  process.exit(2);
}
if (!isEmailAddress(foldIdentifier(email))) {
  console.error(`Not an e-mail address: ${email}`);
  process.exit(2);
}

const config = loadConfigOrExit();

const logger = createLogger(config.logLevel === "silent" ? "silent" : "warn");
let opened: OpenedDatabase | undefined;
let status = 0;
try {
  opened = await openDatabase(config, logger, { joinRunning: true, migrate: config.migrateOnStart, poolSize: 1 });
  const { database } = opened;
  const outcome = await grantAdmin(database, new SecurityEvents(database, systemClock), email, "cli");
  if (outcome === "no such account") {
    console.error(`No account has the e-mail address ${email}: register it first, then run this again.`);
    status = 1;
  } else {
    console.log(outcome === "granted" ? `${email} is now an admin.` : `${email} is already an admin.`);
  }
} catch (error) {
  console.error(error instanceof AppError ? error.message : `Could not grant admin: ${(error as Error).message}`);
  status = 1;
} finally {
  await opened?.close();
}
process.exit(status);
