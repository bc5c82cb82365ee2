import { watch } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { simpleParser } from "mailparser";

/**
 * Without SMTP_URL the subgraph writes each mail as an `.eml` file: print the app links of every new
 * one, so that the verification link is one click away in the terminal.
 */
export async function printMailLinks(directory: string, appUrl: string): Promise<() => void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const seen = new Set<string>();
  const watcher = watch(directory, (_event, file) => {
    if (!file?.endsWith(".eml") || seen.has(file)) return;
    seen.add(file);
    // The file may still be being written: read it a moment later.
    setTimeout(() => void printLinks(path.join(directory, file), appUrl), 200);
  });
  return () => watcher.close();
}

async function printLinks(file: string, appUrl: string): Promise<void> {
  try {
    const mail = await simpleParser(await readFile(file));
    const links =
      (mail.text ?? "").match(new RegExp(`${appUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/\\S+`, "g")) ?? [];
    const to = Array.isArray(mail.to) ? mail.to.map((entry) => entry.text).join(", ") : mail.to?.text;
    console.log(`\nMail to ${to}: ${mail.subject}${links.map((link) => `\n  ${link}`).join("")}`);
  } catch (error) {
    console.error(`could not read ${file}: ${(error as Error).message}`);
  }
}
