// `npm run example`: the users subgraph, Hive Gateway and the web app, with no configuration.
import "reflect-metadata";
import path from "node:path";
import { printMailLinks } from "./mail-links.js";
import { startExample } from "./start.js";

const example = await startExample({ settings: process.env });
const stopMailLinks = example.config.mail.smtpUrl
  ? () => {}
  : await printMailLinks(path.join(example.config.dataDir, "mail"), example.appUrl);
console.log(`The example app: ${example.appUrl}  (GraphQL through Hive Gateway at ${example.gatewayUrl})`);
if (!example.config.mail.smtpUrl) console.log("Mail is not sent: the links of every message appear here.");

const shutdown = async () => {
  stopMailLinks();
  await example.stop();
  process.exit(0);
};
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);
