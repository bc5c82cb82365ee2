#!/bin/sh
# Stands in for Prisma's native schema engine where it cannot be downloaded.
# `prisma generate` only asks it for its version; migrations run through
# @prisma/schema-engine-wasm instead (see src/db/migrate.ts).
if [ "$1" = "--version" ]; then
  echo "schema-engine-cli 0.0.0 (wasm migrations: see src/db/migrate.ts)"
  exit 0
fi
echo "The native Prisma schema engine is not installed here; use 'npm run db:migrate'." >&2
exit 1
