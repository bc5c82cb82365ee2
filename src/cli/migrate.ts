// Applies pending migrations to DATABASE_URL: `npm run db:migrate` (or `node dist/cli/migrate.js`).
// Equivalent to `prisma migrate deploy`, without Prisma's native engine.
import { applyMigrations } from "../db/migrate.js";
import { describeUrl } from "../db/url.js";
import { reasonOf } from "../startup-error.js";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("DATABASE_URL is required");
  process.exit(1);
}
try {
  const applied = await applyMigrations(databaseUrl);
  console.log(applied.length === 0 ? "No pending migrations." : `Applied: ${applied.join(", ")}`);
  // The WebAssembly engine leaves a timer of its own running: exit now that the work is done.
  process.exit(0);
} catch (error) {
  console.error(`Could not migrate PostgreSQL at ${describeUrl(databaseUrl)} (DATABASE_URL): ${reasonOf(error)}`);
  process.exit(1);
}
