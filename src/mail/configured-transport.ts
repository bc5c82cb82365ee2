import path from "node:path";
import type { Logger } from "../observability/logger.js";
import { FileTransport } from "./file-transport.js";
import type { MailTransport } from "./mail-transport.js";
import { SmtpTransport } from "./smtp-transport.js";

/** SMTP when `SMTP_URL` is set; otherwise (outside production, which requires it) `.eml` files under `DATA_DIR/mail/`. */
export function createMailTransport(
  config: { dataDir: string; mail: { smtpUrl?: string; smtpTimeoutSeconds: number } },
  logger: Logger,
): MailTransport {
  return config.mail.smtpUrl
    ? new SmtpTransport({ url: config.mail.smtpUrl, timeoutSeconds: config.mail.smtpTimeoutSeconds })
    : new FileTransport(path.join(config.dataDir, "mail"), logger);
}
