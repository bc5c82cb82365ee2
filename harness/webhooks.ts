import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";

/** A new `EVENT_WEBHOOK_SECRET` value. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** A user event as receivers get it. */
export interface UserEventBody {
  id: string;
  type: string;
  timestamp: string;
  userId: string;
  data: Record<string, unknown>;
}

/** One request the receiver got, and whether the `standardwebhooks` package verified it. */
export interface ReceivedWebhook {
  /** The request's path and query: instances sharing one receiver can be told apart by a query. */
  path: string;
  headers: Record<string, string>;
  body: string;
  event: UserEventBody;
  verified: boolean;
  /** What the receiver answered: a status, or nothing (it hung up, or never answered). */
  answered: number | "hung";
}

/** How the receiver answers: 204, an error status, or never (the request stays open). */
export type ReceiverMode = { status: number } | "hang";

/**
 * An HTTP webhook receiver on loopback that verifies every request as the Standard Webhooks
 * package does, and records it whatever it answers.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  mode: ReceiverMode = { status: 204 };
  /** Milliseconds to wait before answering. */
  delayMs = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly verifier: Webhook;

  private constructor(secret: string) {
    this.verifier = new Webhook(secret);
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  static async start(secret: string, port = 0): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(secret);
    await new Promise<void>((resolve, reject) => {
      receiver.server.once("error", reject);
      receiver.server.listen(port, "127.0.0.1", resolve);
    });
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/users`;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
    const mode = this.mode;
    const entry: ReceivedWebhook = {
      path: request.url ?? "",
      headers,
      body,
      event: JSON.parse(body),
      verified: this.verifies(body, headers),
      answered: "hung",
    };
    this.received.push(entry);
    if (mode === "hang") return;
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    entry.answered = mode.status;
    response.writeHead(mode.status).end();
  }

  /** Whether the package's own check passes (signature, and a timestamp within its tolerance). */
  verifies(body: string, headers: Record<string, string>): boolean {
    try {
      this.verifier.verify(body, headers);
      return true;
    } catch {
      return false;
    }
  }

  /** The requests it answered with a 2xx: the deliveries that count. */
  accepted(): ReceivedWebhook[] {
    return this.received.filter((entry) => typeof entry.answered === "number" && entry.answered < 300);
  }

  /** The events of one account it accepted, in arrival order. */
  eventsOf(userId: string): UserEventBody[] {
    return this.accepted()
      .filter((entry) => entry.event.userId === userId)
      .map((entry) => entry.event);
  }

  /** Waits until `done()` holds (bounded). */
  async waitUntil(done: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline)
        throw new Error(
          `the webhook receiver did not get what was expected within ${timeoutMs} ms (${this.received.length} requests)`,
        );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops listening and drops every open connection (hung requests included). */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
