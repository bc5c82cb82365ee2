-- AlterTable
ALTER TABLE "passkeys" ADD COLUMN     "tentative" BOOLEAN NOT NULL DEFAULT false;
