// Applies pending migrations to DATABASE_URL: `npm run db:migrate` (or `node dist/cli/migrate.js`).
// Equivalent to `prisma migrate deploy`, without Prisma's native engine.
import { applyMigrations } from "../db/migrate.js";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("DATABASE_URL is required");
  process.exit(1);
}
const applied = await applyMigrations(databaseUrl);
console.log(applied.length === 0 ? "No pending migrations." : `Applied: ${applied.join(", ")}`);
