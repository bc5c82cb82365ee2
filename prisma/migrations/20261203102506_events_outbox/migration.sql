-- CreateEnum
CREATE TYPE "outbox_delivery_status" AS ENUM ('pending', 'delivered', 'failed');

-- CreateTable
CREATE TABLE "outbox_messages" (
    "id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "user_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "body" TEXT,
    "mail_ciphertext" TEXT,
    "mail_key_id" TEXT,
    "link_token_hash" TEXT,

    CONSTRAINT "outbox_messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "message_id" UUID NOT NULL,
    "receiver" TEXT NOT NULL,
    "ordering_key" UUID,
    "status" "outbox_delivery_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL,
    "give_up_at" TIMESTAMPTZ(3) NOT NULL,
    "claim_id" UUID,
    "claimed_until" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "outbox_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "outbox_messages_created_at_idx" ON "outbox_messages"("created_at");

-- CreateIndex
CREATE INDEX "outbox_deliveries_message_id_idx" ON "outbox_deliveries"("message_id");

-- CreateIndex
CREATE INDEX "outbox_deliveries_status_id_idx" ON "outbox_deliveries"("status", "id" DESC);

-- CreateIndex
CREATE INDEX "outbox_deliveries_finished_at_idx" ON "outbox_deliveries"("finished_at");

-- AddForeignKey
ALTER TABLE "outbox_deliveries" ADD CONSTRAINT "outbox_deliveries_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "outbox_messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- What the delivery workers read: pending deliveries in id order, and the earlier pending delivery
-- of the same receiver and ordering key that makes a later one wait.
CREATE INDEX "outbox_deliveries_pending_idx" ON "outbox_deliveries"("id") WHERE "status" = 'pending';
CREATE INDEX "outbox_deliveries_queue_idx" ON "outbox_deliveries"("receiver", "ordering_key", "id") WHERE "status" = 'pending';
