-- AlterTable
ALTER TABLE "users" ADD COLUMN     "locked_at" TIMESTAMPTZ(3),
ADD COLUMN     "locked_reason" TEXT,
ADD COLUMN     "roles" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- CreateTable
CREATE TABLE "security_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "kind" TEXT NOT NULL,
    "user_id" UUID,
    "actor_id" UUID,
    "ip" TEXT,
    "user_agent" TEXT,
    "details" JSONB,

    CONSTRAINT "security_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "security_events_user_id_id_idx" ON "security_events"("user_id", "id" DESC);

-- CreateIndex
CREATE INDEX "security_events_at_idx" ON "security_events"("at");

-- The audit log is append-only: no update ever, and deletes only from the retention purge, which
-- announces itself for its own transaction with `SET LOCAL users.purging_security_events = 'on'`.
CREATE FUNCTION "security_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('users.purging_security_events', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'security_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "security_events_append_only" BEFORE UPDATE OR DELETE ON "security_events"
  FOR EACH ROW EXECUTE FUNCTION "security_events_append_only"();
CREATE TRIGGER "security_events_no_truncate" BEFORE TRUNCATE ON "security_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "security_events_append_only"();
