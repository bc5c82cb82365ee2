/** One message as it leaves the subgraph: both bodies, so every mail client shows something readable. */
export interface Mail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Where mail goes: an SMTP server, or (development, no `SMTP_URL`) `.eml` files. `send` resolves
 * once the message is accepted (by the server, or written), rejects otherwise.
 */
export interface MailTransport {
  /** For the start-up log; never credentials. */
  readonly description: string;
  /** The longest `send` may take before it fails. */
  readonly sendLimitMs: number;
  send(mail: Mail): Promise<void>;
  close(): Promise<void>;
}
