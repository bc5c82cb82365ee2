import pg from "pg";
import type { Registry } from "prom-client";
import type { EncryptionKeys } from "../auth/encryption-keys.js";
import type { Clock } from "../clock.js";
import type { Database } from "../db/prisma.js";
import type { MailTransport } from "../mail/mail-transport.js";
import type { Logger } from "../observability/logger.js";
import type { RedisTarget } from "../store/redis-connection.js";
import type { DeliveryChannel } from "./delivery-channel.js";
import { DeliveryStore } from "./delivery-store.js";
import { defaultDeliveryTuning, DeliveryWorker, type DeliveryTuning } from "./delivery-worker.js";
import type { EventSettings } from "./settings.js";
import { MailChannel } from "./mail-channel.js";
import { OutboxMailQueue } from "./mail-queue.js";
import { Outbox } from "./outbox.js";
import { OutboxMetrics } from "./outbox-metrics.js";
import { OutboxSignal } from "./outbox-signal.js";
import { eventReceivers, mailReceiver, streamReceiverName, webhookReceiverName } from "./receivers.js";
import { StreamChannel } from "./stream-channel.js";
import { WebhookChannel } from "./webhook-channel.js";

export interface EventOutboxDependencies {
  events: EventSettings;
  /** Where the stream lives, when `events.stream` names one. */
  redis: RedisTarget;
  database: Database;
  mailTransport: MailTransport;
  encryptionKeys: EncryptionKeys;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  tuning?: Partial<DeliveryTuning>;
}

/** The outbox of one server: where actions write, and the worker that delivers what they wrote. */
export interface EventOutbox {
  outbox: Outbox;
  mailQueue: OutboxMailQueue;
  /** Starts delivering (with the server's `listen`). */
  start(): void;
  /** Stops delivering and closes the worker's connections. */
  stop(): Promise<void>;
  /** Gives up what no instance delivers in time, then deletes what was settled `retentionSeconds` ago. */
  purge(retentionSeconds: number): Promise<{ givenUp: number; purged: number }>;
}

/** The worker's connections, apart from the pool requests use: two for claims and outcomes, one to listen. */
function workerConnections(database: Database): pg.PoolConfig {
  const { connectionString, statement_timeout, query_timeout, connectionTimeoutMillis } = database.pool.options;
  return { connectionString, statement_timeout, query_timeout, connectionTimeoutMillis };
}

function channelsOf(dependencies: EventOutboxDependencies, mailQueue: OutboxMailQueue): Map<string, DeliveryChannel> {
  const { events, redis, mailTransport } = dependencies;
  const { webhookUrls, webhookSecrets, stream, deliveryTimeoutMs } = events;
  const channels = new Map<string, DeliveryChannel>();
  for (const url of webhookUrls)
    channels.set(webhookReceiverName(url), new WebhookChannel(url, webhookSecrets, deliveryTimeoutMs));
  if (stream) channels.set(streamReceiverName(stream.key), new StreamChannel(redis, stream, deliveryTimeoutMs));
  channels.set(mailReceiver, new MailChannel(mailTransport, mailQueue));
  return channels;
}

/** The outbox the settings name receivers for: what the server and the command line write events to. */
export function outboxFor(events: EventSettings, clock: Clock): Outbox {
  return new Outbox({ eventReceivers: eventReceivers(events), maxAgeSeconds: events.maxAgeSeconds }, clock);
}

export function createEventOutbox(dependencies: EventOutboxDependencies): EventOutbox {
  const { events, database, encryptionKeys, clock, logger, registry } = dependencies;
  const connections = workerConnections(database);
  const outbox = outboxFor(events, clock);
  const mailQueue = new OutboxMailQueue(outbox, encryptionKeys);
  const pool = new pg.Pool({ ...connections, max: 2 });
  // A connection that breaks while idle is dropped; the next statement opens another.
  pool.on("error", () => {});
  const store = new DeliveryStore(pool);
  const channels = channelsOf(dependencies, mailQueue);
  const metrics = new OutboxMetrics(registry, () => store.pendingStats(clock.now()));
  const worker = new DeliveryWorker({
    store,
    channels,
    clock,
    logger,
    metrics,
    tuning: { ...defaultDeliveryTuning, ...dependencies.tuning },
  });
  const signal = new OutboxSignal(connections, () => worker.nudge());
  return {
    outbox,
    mailQueue,
    start: () => {
      signal.start();
      worker.start();
    },
    stop: async () => {
      await worker.stop();
      await signal.close();
      await Promise.all([...channels.values()].map((channel) => channel.close()));
      await pool.end();
    },
    purge: async (retentionSeconds) => {
      const now = clock.now();
      const givenUp = await store.giveUpOverdue(now);
      const purged = await store.purgeSettledBefore(new Date(now.getTime() - retentionSeconds * 1000));
      return { givenUp, purged };
    },
  };
}
