import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "prisma/config";

// Prisma's CLI downloads a native schema engine before every command. Where none is
// installed (offline machines), a stub lets `prisma generate` run; migrations are
// applied through the WebAssembly engine instead (`npm run db:migrate`).
const engineStub = fileURLToPath(new URL("./scripts/prisma-schema-engine-stub.sh", import.meta.url));
const enginesDir = fileURLToPath(new URL("./node_modules/@prisma/engines", import.meta.url));
const nativeEngineInstalled =
  existsSync(enginesDir) && readdirSync(enginesDir).some((name) => name.startsWith("schema-engine-"));
if (!process.env.PRISMA_SCHEMA_ENGINE_BINARY && !nativeEngineInstalled) {
  process.env.PRISMA_SCHEMA_ENGINE_BINARY = engineStub;
}

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/users" },
});
