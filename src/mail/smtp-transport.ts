import type { Mail as Transporter } from "nodemailer";
import { loadOnFirstUse } from "../load-on-first-use.js";
import { composedMessage, type Mail, type MailTransport } from "./mail-transport.js";

export interface SmtpTransportOptions {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…` (TLS from the start). */
  url: string;
  /** Longest wait for each step: connecting, the greeting, every command. */
  timeoutSeconds: number;
}

/** Mail through an SMTP server, over a small pool of kept-open connections. */
export class SmtpTransport implements MailTransport {
  readonly description: string;
  /** Each step has the timeout; connecting, the greeting and the data together, at most three. */
  readonly sendLimitMs: number;
  /** The pool, made with the first message: nodemailer is loaded then, not as the server starts. */
  private readonly transporter: () => Promise<Transporter>;
  private made: Transporter | undefined;

  constructor(options: SmtpTransportOptions) {
    const timeoutMs = options.timeoutSeconds * 1000;
    this.sendLimitMs = timeoutMs * 3;
    const { protocol, host } = new URL(options.url);
    this.description = `SMTP at ${protocol}//${host}`;
    this.transporter = loadOnFirstUse(async () => {
      const { default: nodemailer } = await import("nodemailer");
      this.made = nodemailer.createTransport({
        url: options.url,
        pool: true,
        maxConnections: 5,
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
        dnsTimeout: timeoutMs,
      });
      return this.made;
    });
  }

  async send(mail: Mail): Promise<void> {
    // The pool may queue a message behind others: the whole send is bounded too.
    const limitMs = this.sendLimitMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the mail server did not accept the message within ${limitMs} ms`)),
        limitMs,
      );
    });
    try {
      const sent = this.transporter().then((transporter) => transporter.sendMail(composedMessage(mail)));
      await Promise.race([sent, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.made?.close();
  }
}
