import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import { createLogThrottle } from "../observability/log-throttle.js";
import { DeliveryError, failureReason, type DeliveryChannel } from "./delivery-channel.js";
import type { ClaimedDelivery, DeliveryStore, ReceiverBudget } from "./delivery-store.js";
import type { OutboxMetrics } from "./outbox-metrics.js";

export interface DeliveryTuning {
  /** How often the worker looks for due deliveries besides the commits that wake it. */
  pollIntervalMs: number;
  /**
   * The least time between two looks, however many commits wake it: with a long backlog behind a
   * failing receiver a look reads much of it, so busy periods cost a few looks a second, not one per commit.
   */
  minClaimIntervalMs: number;
  /** Attempts under way at once, per receiver. */
  concurrency: number;
  /** The delay before the second attempt; it doubles with each attempt after, up to `maxRetryDelayMs`. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** How much longer than its channel's time limit a claim on a delivery lasts. */
  claimMarginMs: number;
  /** On stop, how long attempts under way may take to finish before the worker lets them go. */
  stopGraceMs: number;
}

export const defaultDeliveryTuning: DeliveryTuning = {
  pollIntervalMs: 1_000,
  minClaimIntervalMs: 100,
  concurrency: 8,
  retryDelayMs: 5_000,
  maxRetryDelayMs: 3_600_000,
  claimMarginMs: 10_000,
  stopGraceMs: 2_000,
};

/** Exponential backoff with jitter: the nth retry waits between half and all of `retryDelayMs × 2ⁿ⁻¹` (capped). */
export function retryDelayMs(
  attempts: number,
  tuning: Pick<DeliveryTuning, "retryDelayMs" | "maxRetryDelayMs">,
  random = Math.random,
): number {
  const ceiling = Math.min(tuning.retryDelayMs * 2 ** Math.min(attempts - 1, 40), tuning.maxRetryDelayMs);
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** A delivery whose time ran out before it was attempted again: given up without an attempt. */
const timeUp = new DeliveryError("not delivered in time", true);

export interface DeliveryWorkerDependencies {
  store: DeliveryStore;
  /** By receiver name. */
  channels: ReadonlyMap<string, DeliveryChannel>;
  clock: Clock;
  logger: Logger;
  metrics: OutboxMetrics;
  tuning: DeliveryTuning;
}

/**
 * Delivers the outbox, in every instance, off the request path: it claims due deliveries (as many
 * per receiver as it has free slots), attempts each with its channel's time limit, and records the
 * outcome, retrying with growing delays until the delivery's time is up. Claims lapse, so what an
 * instance claimed before it died is attempted again by another: at least once, and more than once
 * only after a crash. It wakes at every commit that wrote a message (`nudge`), and polls besides.
 */
export class DeliveryWorker {
  private readonly inFlight = new Map<string, number>();
  private readonly attempts = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly throttle = createLogThrottle(60_000);
  private claiming: Promise<void> | undefined;
  private claimAgain = false;
  private stopped = false;
  private lastClaimAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly dependencies: DeliveryWorkerDependencies) {}

  start(): void {
    this.timer = setInterval(() => this.nudge(), this.dependencies.tuning.pollIntervalMs).unref();
    this.nudge();
  }

  /** Looks for due deliveries now (one look at a time; a nudge during one asks for another). */
  nudge(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = this.claimWhileDue().finally(() => (this.claiming = undefined));
  }

  /** Stops claiming, gives the attempts under way `stopGraceMs`, then lets them go (their claims lapse). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const settled = Promise.all([this.claiming, ...this.attempts]);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise((resolve) => (timer = setTimeout(resolve, this.dependencies.tuning.stopGraceMs)));
    await Promise.race([settled, grace]);
    clearTimeout(timer);
    this.stopping.abort();
  }

  private budgets(): ReceiverBudget[] {
    const { channels, tuning } = this.dependencies;
    return [...channels].flatMap(([receiver, channel]) => {
      const slots = tuning.concurrency - (this.inFlight.get(receiver) ?? 0);
      return slots > 0 ? [{ receiver, slots, leaseMs: channel.limitMs + tuning.claimMarginMs }] : [];
    });
  }

  private async claimWhileDue(): Promise<void> {
    do {
      const wait = this.lastClaimAt + this.dependencies.tuning.minClaimIntervalMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // Nudges until now are answered by this look.
      this.claimAgain = false;
      this.lastClaimAt = Date.now();
      const budgets = this.budgets();
      if (budgets.length === 0 || this.stopped) return;
      let claimed: ClaimedDelivery[];
      try {
        claimed = await this.dependencies.store.claim(this.dependencies.clock.now(), budgets, randomUUID());
      } catch (error) {
        this.warn("claim", error, "could not read the outbox; trying again at the next poll");
        return;
      }
      for (const delivery of claimed) this.launch(delivery);
      // A full claim may have left more due deliveries behind.
      if (claimed.length > 0 && claimed.length === budgets.reduce((sum, budget) => sum + budget.slots, 0))
        this.claimAgain = true;
    } while (this.claimAgain);
  }

  private launch(delivery: ClaimedDelivery): void {
    const { receiver } = delivery;
    this.inFlight.set(receiver, (this.inFlight.get(receiver) ?? 0) + 1);
    const attempt = this.attempt(delivery).finally(() => {
      this.inFlight.set(receiver, this.inFlight.get(receiver)! - 1);
      this.attempts.delete(attempt);
      this.nudge();
    });
    this.attempts.add(attempt);
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const { channels, clock } = this.dependencies;
    let failure: unknown;
    if (clock.now() >= delivery.giveUpAt) {
      failure = timeUp;
    } else {
      try {
        await channels.get(delivery.receiver)!.deliver(delivery.message, this.stopping.signal);
      } catch (error) {
        failure = error;
      }
    }
    try {
      await this.record(delivery, failure);
    } catch (error) {
      // The claim lapses and the delivery is attempted again: a duplicate, never a loss.
      this.warn("record", error, "could not record a delivery's outcome; it will be attempted again");
    }
  }

  private async record(delivery: ClaimedDelivery, failure: unknown): Promise<void> {
    const { store, clock, logger, metrics, tuning } = this.dependencies;
    const now = clock.now();
    const { receiver } = delivery;
    if (failure === undefined) {
      await store.delivered(delivery, now);
      metrics.attempted(receiver, "delivered");
      return;
    }
    const reason = failureReason(failure);
    const logged = failure instanceof DeliveryError ? failure.logged : {};
    const nextAttemptAt = new Date(now.getTime() + retryDelayMs(delivery.attempts, tuning));
    if ((failure instanceof DeliveryError && failure.permanent) || nextAttemptAt >= delivery.giveUpAt) {
      await store.failed(delivery, failure === timeUp ? null : reason, now);
      metrics.attempted(receiver, "failed");
      const what = delivery.message.type === "mail" ? "mail not delivered" : "event not delivered";
      logger.error(
        {
          receiver,
          messageId: delivery.message.id,
          type: delivery.message.type,
          attempts: delivery.attempts,
          reason,
          ...logged,
        },
        `${what}: given up`,
      );
      return;
    }
    await store.retry(delivery, reason, nextAttemptAt);
    metrics.attempted(receiver, "retried");
    this.throttle(`retry:${receiver}`, (repeated) =>
      logger.warn(
        { receiver, reason, ...logged, ...(repeated > 0 ? { repeated } : {}) },
        "delivery failed; it will be tried again",
      ),
    );
  }

  private warn(what: string, error: unknown, message: string): void {
    this.throttle(what, (repeated) =>
      this.dependencies.logger.warn({ reason: failureReason(error), ...(repeated > 0 ? { repeated } : {}) }, message),
    );
  }
}
