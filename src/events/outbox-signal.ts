import pg from "pg";
import { outboxChannel } from "./outbox.js";

const reconnectDelayMs = { first: 1_000, max: 30_000 };

/**
 * Wakes the worker as soon as a transaction that wrote an outbox message commits, in whichever
 * instance: PostgreSQL delivers a NOTIFY to its listeners at commit only. The connection is kept
 * open and reopened when it breaks (the worker polls meanwhile).
 */
export class OutboxSignal {
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private delayMs = reconnectDelayMs.first;
  private closed = false;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly onSignal: () => void,
  ) {}

  start(): void {
    if (this.closed) return;
    const client = new pg.Client(this.config);
    this.client = client;
    const reconnect = () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => {});
      if (this.closed) return;
      this.retry = setTimeout(() => this.start(), this.delayMs).unref();
      this.delayMs = Math.min(this.delayMs * 2, reconnectDelayMs.max);
    };
    client.on("error", reconnect);
    client.on("end", reconnect);
    client.on("notification", () => this.onSignal());
    client
      .connect()
      .then(() => client.query(`LISTEN ${outboxChannel}`))
      .then(() => {
        this.delayMs = reconnectDelayMs.first;
        // Whatever was committed while no one listened.
        this.onSignal();
      }, reconnect);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
