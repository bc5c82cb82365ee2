import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FileTransport } from "../../src/mail/file-transport.js";
import { createLogger } from "../../src/observability/logger.js";
import { parseMail, type ReceivedMail, type TestMailServer } from "../../harness/mail-servers.js";

export {
  type DeliveredMail,
  HungMailServer,
  parseMail,
  type ReceivedMail,
  TestMailServer,
} from "../../harness/mail-servers.js";

/** The token of the link to `page` (`verify-email`, `reset-password`) in a mail's text. */
export function linkToken(mail: ReceivedMail, page: string): string {
  const match = new RegExp(`/${page}\\?token=([A-Za-z0-9_%-]+)`).exec(mail.text);
  if (!match) throw new Error(`no ${page} link in mail "${mail.subject}":\n${mail.text}`);
  return decodeURIComponent(match[1]!);
}

/** The file transport in a directory of its own, removed after the test. */
export class TemporaryFileTransport extends FileTransport {
  static async create(): Promise<TemporaryFileTransport> {
    return new TemporaryFileTransport(await mkdtemp(path.join(tmpdir(), "users-mail-")), createLogger("silent"));
  }

  /** Every message written so far, oldest first. */
  async messages(): Promise<ReceivedMail[]> {
    const files = (await readdir(this.directory).catch(() => [] as string[]))
      .filter((file) => file.endsWith(".eml"))
      .sort();
    return Promise.all(files.map(async (file) => parseMail(await readFile(path.join(this.directory, file)))));
  }

  /** Retried: a mail the outbox is still writing as the server stops can land while the folder is removed. */
  remove(): Promise<void> {
    return rm(this.directory, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }
}

/** The token of the first link to `page` the transport wrote to `address`, waited for (some mails go out after the answer). */
export async function mailedLinkToken(
  transport: TemporaryFileTransport,
  address: string,
  page: string,
): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const messages = await transport.messages();
    const mail = messages.find((message) => message.to.includes(address) && message.text.includes(`/${page}?token=`));
    if (mail) return linkToken(mail, page);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no ${page} link mailed to ${address}`);
}

/**
 * Settings whose `SMTP_URL` names the mail server `current()` returns, read only when a server
 * starts (after the mail server has), so a file can declare both at the top.
 */
export function withMailServer(
  current: () => TestMailServer,
  settings: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return Object.defineProperty({ ...settings }, "SMTP_URL", { get: () => current().url, enumerable: true });
}
