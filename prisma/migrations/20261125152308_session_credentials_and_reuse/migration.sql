-- AlterTable
ALTER TABLE "users" ADD COLUMN     "credentials_version" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
-- Sessions of before this column: when their newest access token expires is not known, but it
-- cannot outlive the session's refresh token, so that bound keeps any revocation long enough.
ALTER TABLE "sessions" ADD COLUMN     "access_token_expires_at" TIMESTAMPTZ(3);
UPDATE "sessions" SET "access_token_expires_at" = "expires_at";
ALTER TABLE "sessions" ALTER COLUMN "access_token_expires_at" SET NOT NULL;

-- AlterTable
ALTER TABLE "refresh_tokens" ADD COLUMN     "rotated_by" TEXT,
ADD COLUMN     "successor_salt" TEXT;

-- CreateIndex
CREATE INDEX "sessions_access_token_expires_at_idx" ON "sessions"("access_token_expires_at");

-- E-mail addresses were stored trimmed and lower-cased but not NFKC-folded as logins look them up.
-- Fold them, except where the folded form is taken (by an account already stored that way, or by an
-- older account folding to the same address): such accounts cannot be merged automatically, and
-- keep their address as stored.
UPDATE "users" AS u SET "email" = lower(normalize(u."email", NFKC))
WHERE u."email" <> lower(normalize(u."email", NFKC))
  AND NOT EXISTS (SELECT 1 FROM "users" AS other WHERE other."email" = lower(normalize(u."email", NFKC)))
  AND u."id" = (
    SELECT first."id" FROM "users" AS first
    WHERE lower(normalize(first."email", NFKC)) = lower(normalize(u."email", NFKC))
    ORDER BY first."created_at", first."id" LIMIT 1
  );
