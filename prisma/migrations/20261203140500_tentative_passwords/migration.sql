-- AlterTable
ALTER TABLE "users" ADD COLUMN     "password_tentative" BOOLEAN NOT NULL DEFAULT false;

-- Passwords of accounts whose address nobody has proved yet.
UPDATE "users" SET "password_tentative" = true WHERE "password_hash" IS NOT NULL AND "email_verified_at" IS NULL;
