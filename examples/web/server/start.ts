import path from "node:path";
import { fileURLToPath } from "node:url";
import { createServer as createViteServer } from "vite";
import { loadConfig, type Config } from "../../../src/config/config.js";
import { createLogger } from "../../../src/observability/logger.js";
import { startServer } from "../../../src/server.js";
import { startGateway } from "./gateway.js";

const appRoot = fileURLToPath(new URL("..", import.meta.url));

export interface ExampleOptions {
  /** Settings of the users subgraph on top of the example's (a test's DATABASE_URL, SMTP_URL…). */
  settings?: NodeJS.ProcessEnv;
  ports?: { app: number; gateway: number; subgraph: number };
}

export interface RunningExample {
  appUrl: string;
  gatewayUrl: string;
  /** The users subgraph itself, as a page would name it. */
  subgraphUrl: string;
  config: Config;
  stop(): Promise<void>;
}

/**
 * The users subgraph, Hive Gateway in front of it and the app's Vite dev server. The app is on
 * http://localhost, so the session cookie, Secure as it is, works without HTTPS.
 */
export async function startExample({
  settings = {},
  ports = { app: 5173, gateway: 4000, subgraph: 4001 },
}: ExampleOptions = {}): Promise<RunningExample> {
  const appUrl = `http://localhost:${ports.app}`;
  const config = loadConfig({
    DATA_DIR: path.join(".data", "example"),
    LOG_LEVEL: "warn",
    REQUIRE_EMAIL_VERIFICATION: "true",
    ...settings,
    HOST: "127.0.0.1",
    PORT: String(ports.subgraph),
    // Links in mails open the app's pages; CORS_ORIGINS defaults to its origin.
    APP_URL: appUrl,
  });
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
  };
  try {
    const subgraph = await startServer(config, createLogger(config.logLevel));
    stops.push(() => subgraph.stop());
    const gateway = await startGateway({ subgraphUrl: subgraph.url, appOrigin: appUrl, port: ports.gateway });
    stops.push(gateway.stop);
    const vite = await createViteServer({
      configFile: path.join(appRoot, "vite.config.ts"),
      server: { port: ports.app, strictPort: true, host: "127.0.0.1" },
      define: { "import.meta.env.VITE_GRAPHQL_URL": JSON.stringify(gateway.url) },
      logLevel: "warn",
    });
    stops.push(() => vite.close());
    await vite.listen();
    return { appUrl, gatewayUrl: gateway.url, subgraphUrl: `http://localhost:${subgraph.port}/graphql`, config, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
