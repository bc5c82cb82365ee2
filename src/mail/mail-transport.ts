import type { SendMailOptions } from "nodemailer";

/** One message as it leaves the subgraph: both bodies, so every mail client shows something readable. */
export interface Mail {
  /** `MAIL_FROM`, as the operator wrote it (it may carry a display name). */
  from: string;
  /** A bare address (`isEmailAddress`): the recipient, nothing else. */
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

/**
 * The message as nodemailer takes it. The recipient is an address object, in the To header and in
 * the SMTP envelope alike, so the library does not parse it as a header value: a name, a group or a
 * second address in it could never become a recipient. (Only `from`, the operator's setting, is parsed.)
 */
export function composedMessage(mail: Mail): SendMailOptions {
  const recipient = { name: "", address: mail.to };
  return { ...mail, to: [recipient], envelope: { from: mail.from, to: [recipient] } };
}
