import { Counter, Gauge, type Registry } from "prom-client";
import type { DeliveryOutcome } from "../observability/events.js";
import type { PendingStats } from "./delivery-store.js";

/**
 * The outbox in /metrics: what waits (read from the database at each scrape, so every instance
 * reports the whole outbox) and what this instance's attempts came to.
 */
export class OutboxMetrics {
  private readonly attempts: Counter<"receiver" | "outcome">;

  constructor(registry: Registry, readPending: () => Promise<PendingStats[]>) {
    let latest: Promise<PendingStats[]> | undefined;
    // Both gauges are collected at each scrape from one read; a failed read reports nothing waiting.
    const read = () =>
      (latest ??= readPending()
        .catch(() => [] as PendingStats[])
        .finally(() => setImmediate(() => (latest = undefined))));
    new Gauge({
      name: "outbox_pending_deliveries",
      help: "Deliveries (events per receiver, mails) waiting to be delivered, by receiver.",
      labelNames: ["receiver"] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const stats of await read()) this.set({ receiver: stats.receiver }, stats.pending);
      },
    });
    new Gauge({
      name: "outbox_oldest_pending_seconds",
      help: "How long the oldest waiting delivery has waited, by receiver.",
      labelNames: ["receiver"] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const stats of await read()) this.set({ receiver: stats.receiver }, stats.oldestSeconds);
      },
    });
    this.attempts = new Counter({
      name: "outbox_delivery_attempts_total",
      help: "Delivery attempts of this instance, by receiver and outcome: delivered, retried (failed, tried again later), failed (given up).",
      labelNames: ["receiver", "outcome"] as const,
      registers: [registry],
    });
  }

  attempted(receiver: string, outcome: DeliveryOutcome): void {
    this.attempts.inc({ receiver, outcome });
  }
}
