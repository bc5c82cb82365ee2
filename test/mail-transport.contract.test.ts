import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileTransport } from "../src/mail/file-transport.js";
import type { MailTransport } from "../src/mail/mail-transport.js";
import { SmtpTransport } from "../src/mail/smtp-transport.js";
import { templates } from "../src/mail/templates.js";
import { capturedLogger } from "./helpers/log.js";
import { freePort } from "../harness/process.js";
import { parseMail, TemporaryFileTransport, TestMailServer, type ReceivedMail } from "./helpers/mail.js";

interface Subject {
  transport: MailTransport;
  /** Every message that arrived, oldest first. */
  delivered(): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

const { logger, lines: logLines } = capturedLogger();

const transports: Record<string, () => Promise<Subject>> = {
  // With credentials in the URL, as SMTP_URL carries them: the server refuses mail without them.
  smtp: async () => {
    const server = await TestMailServer.start({ credentials: { user: "mailer@example.com", pass: "p@ss word" } });
    const transport = new SmtpTransport({ url: server.url, timeoutSeconds: 5 });
    return {
      transport,
      delivered: async () => server.received,
      close: async () => {
        await transport.close();
        await server.close();
      },
    };
  },
  file: async () => {
    const files = await TemporaryFileTransport.create();
    const transport = new FileTransport(files.directory, logger);
    return { transport, delivered: () => files.messages(), close: () => files.remove() };
  },
};

describe.each(Object.keys(transports))("the %s mail transport", (kind) => {
  let subject: Subject;
  beforeAll(async () => {
    subject = await transports[kind]!();
  });
  afterAll(() => subject.close());

  it("delivers a message with sender, recipient, subject, plain text and HTML intact", async () => {
    const content = templates.resetPassword({
      username: "Ada <&> Lovelace",
      link: "http://app.test/reset-password?token=abc_DEF-123",
      validForSeconds: 3600,
    });
    await subject.transport.send({ from: "Users <no-reply@example.com>", to: "ada@example.com", ...content });
    await subject.transport.send({
      from: "Users <no-reply@example.com>",
      to: "grace@example.com",
      subject: "Grüße ✓",
      text: "Zweite Nachricht – ü\n",
      html: "<p>Zweite Nachricht – ü</p>",
    });

    const [first, second] = await subject.delivered();
    expect(first).toMatchObject({
      from: '"Users" <no-reply@example.com>',
      to: ["ada@example.com"],
      subject: "Reset your password",
    });
    expect(first!.text).toContain("http://app.test/reset-password?token=abc_DEF-123");
    expect(first!.text).toContain("1 hour");
    // HTML: the link as a real link, the name escaped.
    expect(first!.html).toContain('href="http://app.test/reset-password?token=abc_DEF-123"');
    expect(first!.html).toContain("Ada &lt;&amp;&gt; Lovelace");
    expect(second).toMatchObject({ to: ["grace@example.com"], subject: "Grüße ✓", text: "Zweite Nachricht – ü\n" });
  });
});

describe("the file transport", () => {
  it("logs the file it wrote, a file that holds the message exactly as mail clients open it", async () => {
    const files = await TemporaryFileTransport.create();
    try {
      const transport = new FileTransport(files.directory, logger);
      await transport.send({
        from: "a@example.com",
        to: "b@example.com",
        subject: "Logged",
        text: "hello\n",
        html: "<p>hello</p>",
      });
      const line = logLines.map((text) => JSON.parse(text)).find((entry) => entry.subject === "Logged");
      expect(line.file.startsWith(files.directory)).toBe(true);
      expect(line.msg).toContain(line.file);
      const { readFile, stat } = await import("node:fs/promises");
      expect((await stat(line.file)).mode & 0o077).toBe(0);
      expect((await parseMail(await readFile(line.file))).text).toBe("hello\n");
    } finally {
      await files.remove();
    }
  });

  it("makes its folder once, and again when it was removed while running", async () => {
    const files = await TemporaryFileTransport.create();
    try {
      const transport = new FileTransport(files.directory, logger);
      const mail = { from: "a@example.com", to: "b@example.com", text: "hello\n", html: "<p>hello</p>" };
      await transport.send({ ...mail, subject: "First" });
      await files.remove();
      await transport.send({ ...mail, subject: "After the folder went" });
      expect((await files.messages()).map((message) => message.subject)).toEqual(["After the folder went"]);
    } finally {
      await files.remove();
    }
  });
});

describe("the SMTP transport", () => {
  it("fails, within its time limit, when no server listens", async () => {
    const transport = new SmtpTransport({ url: `smtp://127.0.0.1:${await freePort()}`, timeoutSeconds: 2 });
    const mail = { from: "a@example.com", to: "b@example.com", subject: "s", text: "t", html: "<p>t</p>" };
    await expect(transport.send(mail)).rejects.toThrow();
    await transport.close();
  });

  it("fails when the server refuses the message", async () => {
    const server = await TestMailServer.start();
    server.refuse = true;
    const transport = new SmtpTransport({ url: server.url, timeoutSeconds: 2 });
    const mail = { from: "a@example.com", to: "b@example.com", subject: "s", text: "t", html: "<p>t</p>" };
    await expect(transport.send(mail)).rejects.toThrow(/550|unavailable/i);
    await transport.close();
    await server.close();
  });

  it("fails when the server wants credentials the URL lacks", async () => {
    const server = await TestMailServer.start({ credentials: { user: "u", pass: "p" } });
    const transport = new SmtpTransport({ url: `smtp://127.0.0.1:${server.port}`, timeoutSeconds: 2 });
    const mail = { from: "a@example.com", to: "b@example.com", subject: "s", text: "t", html: "<p>t</p>" };
    await expect(transport.send(mail)).rejects.toThrow();
    expect(server.received).toEqual([]);
    await transport.close();
    await server.close();
  });
});
