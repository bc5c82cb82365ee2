import type pg from "pg";

/** A delivery this instance has claimed, with its message. */
export interface ClaimedDelivery {
  id: string;
  receiver: string;
  /** Counting this one. */
  attempts: number;
  giveUpAt: Date;
  claimId: string;
  message: OutboxMessageRow;
}

export interface OutboxMessageRow {
  id: string;
  type: string;
  userId: string | null;
  /** An event's JSON body. */
  body: string | null;
  /** A mail's sealed content; null once it is no longer needed. */
  mailCiphertext: string | null;
  mailKeyId: string | null;
}

/** What a claim may take of one receiver: how many deliveries, and how long its claim on each lasts. */
export interface ReceiverBudget {
  receiver: string;
  slots: number;
  leaseMs: number;
}

export interface PendingStats {
  receiver: string;
  pending: number;
  oldestSeconds: number;
}

/**
 * The due deliveries of the given receivers, oldest first, those locked by another instance's
 * claim skipped, and of each ordering key only the earliest pending one (the next waits until it is
 * delivered or given up). Then at most `slots` per receiver, each claimed for `leaseMs`: a claim
 * that is not settled in time (its instance died) lapses, and any instance tries again.
 */
const claimDue = `WITH due AS (
    SELECT d.id, d.receiver FROM outbox_deliveries d
    WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (d.claimed_until IS NULL OR d.claimed_until <= $1)
      AND d.receiver = ANY($2::text[])
      AND (d.ordering_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM outbox_deliveries e
        WHERE e.status = 'pending' AND e.receiver = d.receiver AND e.ordering_key = d.ordering_key AND e.id < d.id))
    ORDER BY d.id
    LIMIT $5
    FOR UPDATE OF d SKIP LOCKED
  ), picked AS (
    SELECT ranked.id, budget.lease_ms
    FROM (SELECT id, receiver, row_number() OVER (PARTITION BY receiver ORDER BY id) AS rank FROM due) ranked
    JOIN unnest($2::text[], $3::int[], $4::int[]) AS budget(receiver, slots, lease_ms) ON budget.receiver = ranked.receiver
    WHERE ranked.rank <= budget.slots
  )
  UPDATE outbox_deliveries d
  SET claim_id = $6, claimed_until = $1::timestamptz + picked.lease_ms * interval '1 millisecond', attempts = d.attempts + 1
  FROM picked, outbox_messages m
  WHERE d.id = picked.id AND m.id = d.message_id
  RETURNING d.id::text, d.receiver, d.attempts, d.give_up_at, m.id AS message_id, m.type, m.user_id, m.body, m.mail_ciphertext, m.mail_key_id`;

/** A mail's content is needed until its delivery is settled, and not a moment longer. */
const clearMail = `UPDATE outbox_messages SET mail_ciphertext = NULL, mail_key_id = NULL
  WHERE id IN (SELECT message_id FROM settled) AND mail_ciphertext IS NOT NULL RETURNING link_token_hash`;

const markDelivered = `WITH settled AS (
    UPDATE outbox_deliveries SET status = 'delivered', finished_at = $3, claim_id = NULL, claimed_until = NULL
    WHERE id = $1 AND claim_id = $2 RETURNING message_id
  ) ${clearMail}`;

const scheduleRetry = `UPDATE outbox_deliveries SET next_attempt_at = $3, last_error = $4, claim_id = NULL, claimed_until = NULL
  WHERE id = $1 AND claim_id = $2`;

/**
 * Given up: a mail's content goes, and so does the link it carried, which nobody received. Without a
 * reason of its own (its time ran out before an attempt), the last attempt's error stays.
 */
const markFailed = (where: string) => `WITH settled AS (
    UPDATE outbox_deliveries
    SET status = 'failed', finished_at = $1, last_error = coalesce($2, last_error, 'not delivered in time'), claim_id = NULL, claimed_until = NULL
    WHERE ${where} RETURNING message_id
  ), cleared AS (${clearMail}
  ), withdrawn AS (
    DELETE FROM account_tokens WHERE token_hash IN (SELECT link_token_hash FROM cleared)
  )
  SELECT count(*)::int AS settled FROM settled`;

const purgeBatch = 1000;

/**
 * The outbox as the delivery workers use it: plain statements on a small pool of their own, so
 * that their polling neither competes with requests for connections nor counts among their queries.
 */
export class DeliveryStore {
  constructor(private readonly pool: pg.Pool) {}

  async claim(now: Date, budgets: readonly ReceiverBudget[], claimId: string): Promise<ClaimedDelivery[]> {
    const scan = Math.min(500, 4 * budgets.reduce((sum, budget) => sum + budget.slots, 0));
    const { rows } = await this.pool.query(claimDue, [
      now,
      budgets.map((budget) => budget.receiver),
      budgets.map((budget) => budget.slots),
      budgets.map((budget) => budget.leaseMs),
      scan,
      claimId,
    ]);
    return rows.map((row) => ({
      id: row.id,
      receiver: row.receiver,
      attempts: row.attempts,
      giveUpAt: row.give_up_at,
      claimId,
      message: {
        id: row.message_id,
        type: row.type,
        userId: row.user_id,
        body: row.body,
        mailCiphertext: row.mail_ciphertext,
        mailKeyId: row.mail_key_id,
      },
    }));
  }

  async delivered(delivery: ClaimedDelivery, now: Date): Promise<void> {
    await this.pool.query(markDelivered, [delivery.id, delivery.claimId, now]);
  }

  async retry(delivery: ClaimedDelivery, error: string, nextAttemptAt: Date): Promise<void> {
    await this.pool.query(scheduleRetry, [delivery.id, delivery.claimId, nextAttemptAt, error]);
  }

  /** `error` null: its time ran out. */
  async failed(delivery: ClaimedDelivery, error: string | null, now: Date): Promise<void> {
    await this.pool.query(markFailed("id = $3 AND claim_id = $4"), [now, error, delivery.id, delivery.claimId]);
  }

  /** Gives up pending deliveries past their time that no instance claims (a receiver no longer configured anywhere). */
  async giveUpOverdue(now: Date): Promise<number> {
    const { rows } = await this.pool.query(
      markFailed("status = 'pending' AND give_up_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)"),
      [now, null],
    );
    return rows[0].settled;
  }

  /** Deletes messages whose every delivery was settled before `before`, with their deliveries. */
  async purgeSettledBefore(before: Date): Promise<number> {
    let purged = 0;
    for (;;) {
      const { rowCount } = await this.pool.query(
        `DELETE FROM outbox_messages WHERE id IN (
          SELECT m.id FROM outbox_messages m
          WHERE m.created_at < $1 AND NOT EXISTS (
            SELECT 1 FROM outbox_deliveries d WHERE d.message_id = m.id AND (d.status = 'pending' OR d.finished_at >= $1))
          LIMIT ${purgeBatch})`,
        [before],
      );
      purged += rowCount ?? 0;
      if ((rowCount ?? 0) < purgeBatch) return purged;
    }
  }

  /** Per receiver: deliveries waiting, and how long the oldest of them has waited. */
  async pendingStats(now: Date): Promise<PendingStats[]> {
    const { rows } = await this.pool.query(
      `SELECT receiver, count(*)::int AS pending, EXTRACT(EPOCH FROM ($1 - min(created_at)))::float8 AS oldest
       FROM outbox_deliveries WHERE status = 'pending' GROUP BY receiver`,
      [now],
    );
    return rows.map((row) => ({
      receiver: row.receiver,
      pending: row.pending,
      oldestSeconds: Math.max(0, row.oldest),
    }));
  }
}
