import nodemailer, { type Mail as Transporter } from "nodemailer";
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
  private readonly transporter: Transporter;

  constructor(options: SmtpTransportOptions) {
    const timeoutMs = options.timeoutSeconds * 1000;
    this.sendLimitMs = timeoutMs * 3;
    const { protocol, host } = new URL(options.url);
    this.description = `SMTP at ${protocol}//${host}`;
    this.transporter = nodemailer.createTransport({
      url: options.url,
      pool: true,
      maxConnections: 5,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      dnsTimeout: timeoutMs,
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
      await Promise.race([this.transporter.sendMail(composedMessage(mail)), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}
