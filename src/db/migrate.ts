import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { MigrationList } from "@prisma/schema-engine-wasm";
import type { Database } from "./prisma.js";
import { withSchemaEngine } from "./schema-engine.js";

export const prismaDir = fileURLToPath(new URL("../../prisma", import.meta.url));
export const migrationsDir = path.join(prismaDir, "migrations");
export const schemaPath = path.join(prismaDir, "schema.prisma");

export async function readMigrations(dir = migrationsDir): Promise<MigrationList> {
  const folders = await migrationNames(dir);
  const lockfilePath = path.join(dir, "migration_lock.toml");
  return {
    baseDir: dir,
    lockfile: { path: "migration_lock.toml", content: await readFile(lockfilePath, "utf8").catch(() => null) },
    shadowDbInitScript: "",
    migrationDirectories: await Promise.all(
      folders.map(async (folder) => ({
        path: folder,
        migrationFile: {
          path: "migration.sql",
          content: await readFile(path.join(dir, folder, "migration.sql"), "utf8").then(
            (sql) => ({ tag: "ok" as const, value: sql }),
            (error: Error) => ({ tag: "error" as const, value: error.message }),
          ),
        },
      })),
    ),
  };
}

/**
 * Applies every pending migration of `prisma/migrations`, recording them in
 * `_prisma_migrations` exactly as `prisma migrate deploy` does. Idempotent.
 */
export async function applyMigrations(databaseUrl: string): Promise<string[]> {
  const migrationsList = await readMigrations();
  const datamodel = await readFile(schemaPath, "utf8");
  return withSchemaEngine(databaseUrl, [[schemaPath, datamodel]], async (engine) => {
    const { appliedMigrationNames } = await engine.applyMigrations({
      migrationsList,
      filters: { externalTables: [], externalEnums: [] },
    });
    return appliedMigrationNames;
  });
}

/** The migrations of `prisma/migrations`, oldest first. */
export async function migrationNames(dir = migrationsDir): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** Which of `names` the database has not applied (all of them when it never was migrated). */
export async function pendingMigrations(database: Database, names: readonly string[]): Promise<string[]> {
  try {
    const { rows } = await database.pool.query<{ migration_name: string }>(
      "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
    );
    const applied = new Set(rows.map((row) => row.migration_name));
    return names.filter((name) => !applied.has(name));
  } catch (error) {
    if ((error as { code?: unknown }).code === "42P01") return [...names]; // no _prisma_migrations table
    throw error;
  }
}
