import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import nodemailer from "nodemailer";
import type { Logger } from "../observability/logger.js";
import type { Mail, MailTransport } from "./mail-transport.js";

/**
 * Development without a mail server: each message is composed exactly as SMTP would carry it and
 * written as an `.eml` file (any mail client opens it); the log names the file.
 */
export class FileTransport implements MailTransport {
  readonly description: string;
  readonly sendLimitMs = 5_000;
  private readonly composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });

  constructor(
    readonly directory: string,
    private readonly logger: Logger,
  ) {
    this.description = `.eml files in ${directory}`;
  }

  async send(mail: Mail): Promise<void> {
    const { message } = await this.composer.sendMail(mail);
    // The files hold live links: readable by this user only.
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const file = path.join(this.directory, `${stamp}-${randomBytes(4).toString("hex")}.eml`);
    await writeFile(file, message as Buffer, { mode: 0o600 });
    this.logger.info({ file, subject: mail.subject }, `mail written to ${file}`);
  }

  async close(): Promise<void> {}
}
