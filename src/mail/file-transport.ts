import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { loadOnFirstUse } from "../load-on-first-use.js";
import type { Logger } from "../observability/logger.js";
import { composedMessage, type Mail, type MailTransport } from "./mail-transport.js";

/** Composes a message into the bytes SMTP would carry; it keeps nothing between messages, so one serves every transport. */
const composer = loadOnFirstUse(async () => {
  const { default: nodemailer } = await import("nodemailer");
  return nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
});

/**
 * Development without a mail server: each message is composed exactly as SMTP would carry it and
 * written as an `.eml` file (any mail client opens it); the log names the file.
 */
export class FileTransport implements MailTransport {
  readonly description: string;
  readonly sendLimitMs = 5_000;
  private directoryMade: Promise<void> | undefined;

  constructor(
    readonly directory: string,
    private readonly logger: Logger,
  ) {
    this.description = `.eml files in ${directory}`;
  }

  async send(mail: Mail): Promise<void> {
    const { message } = await (await composer()).sendMail(composedMessage(mail));
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const file = path.join(this.directory, `${stamp}-${randomBytes(4).toString("hex")}.eml`);
    // The directory is made once, not before every message (a registration waits for its mail);
    // made again if someone removed it meanwhile.
    this.directoryMade ??= this.makeDirectory();
    await this.directoryMade;
    // The files hold live links: readable by this user only.
    await writeFile(file, message as Buffer, { mode: 0o600 }).catch(async (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      this.directoryMade = this.makeDirectory();
      await this.directoryMade;
      await writeFile(file, message as Buffer, { mode: 0o600 });
    });
    this.logger.info({ file, subject: mail.subject }, `mail written to ${file}`);
  }

  private makeDirectory(): Promise<void> {
    const made = mkdir(this.directory, { recursive: true, mode: 0o700 }).then(() => undefined);
    // A failure is not remembered: the next message tries again.
    made.catch(() => (this.directoryMade = undefined));
    return made;
  }

  async close(): Promise<void> {}
}
