// Mail servers on loopback for the tests and the bench: a real SMTP server that keeps what it
// receives, and one that accepts connections and never answers.
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

/** A received message, parsed as a mail client would. */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  parsed: ParsedMail;
}

function addresses(field: ParsedMail["to"]): string[] {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list.flatMap((entry) => entry.value.map((address) => address.address ?? ""));
}

export async function parseMail(source: Buffer | string): Promise<ReceivedMail> {
  const parsed = await simpleParser(source);
  return {
    from: parsed.from?.text ?? "",
    to: addresses(parsed.to),
    subject: parsed.subject ?? "",
    text: parsed.text ?? "",
    html: typeof parsed.html === "string" ? parsed.html : "",
    parsed,
  };
}

/** A message as the SMTP server got it: also the envelope's recipients, as the client wrote them. */
export interface DeliveredMail extends ReceivedMail {
  /** The addresses of the message's `RCPT TO` commands, byte for byte (the server's own parse decodes A-labels). */
  envelopeTo: string[];
}

const ignore = () => {};

/**
 * A real SMTP server in the test process: every message it accepts is parsed into `received`.
 * `refuse` makes it answer every message with a permanent error, as a broken relay would, after
 * reading it (into `refused`).
 */
export class TestMailServer {
  readonly received: DeliveredMail[] = [];
  readonly refused: DeliveredMail[] = [];
  refuse = false;
  private readonly server: SMTPServer;
  /** Per connection, the `RCPT TO` addresses since its last `MAIL FROM`. */
  private readonly recipients = new Map<string, string[]>();

  private constructor(private readonly credentials?: { user: string; pass: string }) {
    this.server = new SMTPServer({
      disabledCommands: credentials ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
      authOptional: !credentials,
      allowInsecureAuth: true,
      // Its debug log is the only place the commands appear as sent.
      logger: {
        trace: ignore,
        info: ignore,
        warn: ignore,
        error: ignore,
        fatal: ignore,
        debug: (meta, ...parts) => this.command(meta, parts),
      },
      disableReverseLookup: true,
      onAuth: (auth, _session, callback) => {
        if (auth.username === credentials?.user && auth.password === credentials?.pass)
          callback(null, { user: auth.username });
        else callback(new Error("Invalid username or password"));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        const envelopeTo = this.recipients.get(session.id) ?? [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          const refuse = this.refuse;
          parseMail(Buffer.concat(chunks)).then((parsed) => {
            const mail = { ...parsed, envelopeTo };
            if (refuse) {
              this.refused.push(mail);
              callback(Object.assign(new Error("Mailbox unavailable"), { responseCode: 550 }));
            } else {
              this.received.push(mail);
              callback();
            }
          }, callback);
        });
      },
    });
  }

  private command(meta: unknown, parts: unknown[]): void {
    const { tnx, cid } = (meta ?? {}) as { tnx?: string; cid?: string };
    if (tnx !== "command" || !cid) return;
    const line = parts.map(String).join(" ").replace(/^C: /, "");
    if (/^MAIL FROM:/i.test(line)) this.recipients.set(cid, []);
    else if (/^RCPT TO:/i.test(line))
      this.recipients.get(cid)?.push(line.slice(line.indexOf("<") + 1, line.lastIndexOf(">")));
  }

  /** On a free port, or on `port` (to come back where a stopped one was). */
  static async start(
    options: { credentials?: { user: string; pass: string }; port?: number } = {},
  ): Promise<TestMailServer> {
    const mail = new TestMailServer(options.credentials);
    await new Promise<void>((resolve, reject) => {
      mail.server.once("error", reject);
      mail.server.listen(options.port ?? 0, "127.0.0.1", resolve);
    });
    return mail;
  }

  get port(): number {
    return (this.server.server.address() as AddressInfo).port;
  }

  /** `SMTP_URL` for this server (with the credentials it requires, if any). */
  get url(): string {
    const auth = this.credentials
      ? `${encodeURIComponent(this.credentials.user)}:${encodeURIComponent(this.credentials.pass)}@`
      : "";
    return `smtp://${auth}127.0.0.1:${this.port}`;
  }

  /** Messages to `address` so far. */
  to(address: string): DeliveredMail[] {
    return this.received.filter((mail) => mail.to.includes(address));
  }

  /** The `count`-th message to `address` (1: the first), waiting for it to arrive. */
  async waitFor(address: string, count = 1, timeoutMs = 10_000): Promise<DeliveredMail> {
    const deadline = Date.now() + timeoutMs;
    while (this.to(address).length < count) {
      if (Date.now() > deadline) throw new Error(`no mail #${count} to ${address} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.to(address)[count - 1]!;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A mail server that accepts connections and never answers (not even its greeting): a hung one. */
export class HungMailServer {
  private readonly sockets = new Set<Socket>();
  private readonly server = createNetServer((socket) => {
    this.sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => this.sockets.delete(socket));
  });

  static async start(port = 0): Promise<HungMailServer> {
    const hung = new HungMailServer();
    await new Promise<void>((resolve, reject) => {
      hung.server.once("error", reject);
      hung.server.listen(port, "127.0.0.1", resolve);
    });
    return hung;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Connections open now: messages the subgraph is waiting to hand over. */
  get connections(): number {
    return this.sockets.size;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
