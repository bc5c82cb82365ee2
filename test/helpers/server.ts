import { randomBytes } from "node:crypto";
import { graphql, type GraphQLResponse, type RequestOptions } from "../../harness/graphql.js";
import { createApp, type App, type AppDependencies } from "../../src/app.js";
import { EncryptionKeys } from "../../src/auth/encryption-keys.js";
import { createArgon2Hasher, defaultHashingConcurrency, type PasswordHasher } from "../../src/auth/password-hasher.js";
import { exportPrivateJwks, generateSigningKey, toSigningKeys, type SigningKeys } from "../../src/auth/signing-keys.js";
import type { Clock } from "../../src/clock.js";
import { loadConfig, type Config } from "../../src/config/config.js";
import { ReadReplicas } from "../../src/db/read-replicas.js";
import { createDatabase, type Database } from "../../src/db/prisma.js";
import { createMailTransport } from "../../src/mail/configured-transport.js";
import type { MailTransport } from "../../src/mail/mail-transport.js";
import { createLogger, type Logger } from "../../src/observability/logger.js";
import type { PasswordAttemptLimits } from "../../src/rate-limit/password-attempts.js";
import { prepareToServe } from "../../src/server.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { RedisStore } from "../../src/store/redis-store.js";
import type { Store } from "../../src/store/store.js";
import { testRedisUrl } from "./environment.js";
import { TemporaryFileTransport } from "./mail.js";
import { fileRedisCluster } from "./redis-cluster.js";

export { newAccount } from "../../harness/accounts.js";

/** One key for every test server that is not about keys, so servers of one file share secrets. */
export const testEncryptionKeys = EncryptionKeys.parse(EncryptionKeys.generate("test"));

/**
 * argon2id at its cheapest: real hashing, test speed. The OWASP parameters have their own test.
 * No queue bounds: tests register a hundred accounts at once to set up; the bounds have their own test.
 */
export const fastHasher = createArgon2Hasher(
  { memoryCost: 64, timeCost: 1, parallelism: 1 },
  defaultHashingConcurrency,
  {},
);

/**
 * NODE_ENV=production with the settings it requires present, for a test server that is handed its
 * database, store and keys directly (the values are never used; mail goes to files). The signing
 * key is a real one because the configuration checks key material.
 */
export const productionSettings: NodeJS.ProcessEnv = {
  NODE_ENV: "production",
  DATABASE_URL: "postgresql://unused/unused",
  REDIS_URL: "redis://unused",
  JWT_PRIVATE_KEYS: await exportPrivateJwks([await generateSigningKey()]),
  ENCRYPTION_KEYS: "unused",
  SMTP_URL: "smtp://unused",
  MAIL_FROM: "no-reply@example.com",
  APP_URL: "https://app.example.com",
  WEBAUTHN_RP_ID: "app.example.com",
  WEBAUTHN_ORIGINS: "https://app.example.com",
};

/**
 * Test servers set up their data in bursts (a hundred registrations at once) on a machine shared
 * with other work: their databases wait as long as that takes. The bounds have their own tests.
 */
export const patientDatabaseTimeouts = { statementMs: 60_000, connectMs: 60_000 };

/** Tests wait for mail and events: the worker polls often, and retries soon. */
export const testDeliveryTuning = {
  pollIntervalMs: 200,
  minClaimIntervalMs: 10,
  retryDelayMs: 100,
  maxRetryDelayMs: 1_000,
  stopGraceMs: 500,
};

export function testConfig(overrides: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({ NODE_ENV: "test", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", ...overrides });
}

const unlimited = {
  failuresPerClient: 1_000_000,
  failuresPerAccount: 1_000_000,
  failuresPerAddress: 1_000_000,
  registrationsPerAddress: 1_000_000,
  signInStartsPerAddress: 1_000_000,
};

/** The store kinds a test server runs on: in-process, the shared test Redis, or the file's Redis Cluster. */
export type TestStoreKind = "memory" | "redis" | "cluster";

export async function openTestStore(kind: TestStoreKind, clock?: Clock): Promise<Store> {
  const prefix = `test:${randomBytes(6).toString("hex")}:`;
  if (kind === "redis") return RedisStore.connect(testRedisUrl, prefix);
  if (kind === "cluster") return RedisStore.connect({ clusterNodes: fileRedisCluster().nodes }, prefix);
  return new MemoryStore(clock);
}

export interface TestServerOptions {
  databaseUrl: string;
  store?: TestStoreKind | Store;
  clock?: Clock;
  signingKeys?: SigningKeys;
  encryptionKeys?: EncryptionKeys;
  config?: NodeJS.ProcessEnv;
  logger?: Logger;
  database?: Database;
  /** Overrides of the login rate limits, which are otherwise raised out of reach. */
  loginLimits?: Partial<PasswordAttemptLimits>;
  /** Default: SMTP to `config.SMTP_URL` when given, else `.eml` files in a directory of the server's own. */
  mailTransport?: MailTransport;
  hasher?: PasswordHasher;
  /** Default: the outbox's worker looks for due deliveries every 200 ms, and retries after 100 ms and more. */
  deliveryTuning?: AppDependencies["deliveryTuning"];
}

export interface TestServer {
  app: App;
  url: string;
  baseUrl: string;
  database: Database;
  store: Store;
  signingKeys: SigningKeys;
  mailTransport: MailTransport;
  request(query: string, variables?: Record<string, unknown>, options?: RequestOptions): Promise<GraphQLResponse>;
  close(): Promise<void>;
}

/** The real application on a random port, over a real database and a real revocation store. */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const loaded = testConfig(options.config);
  // Every test client is 127.0.0.1: only the limits a test sets apply.
  const passwordAttempts = { ...loaded.passwordAttempts, ...unlimited, ...options.loginLimits };
  const config = { ...loaded, passwordAttempts };
  const database =
    options.database ?? createDatabase(options.databaseUrl, { poolSize: 5, timeouts: patientDatabaseTimeouts });
  const store =
    typeof options.store === "object" ? options.store : await openTestStore(options.store ?? "memory", options.clock);
  const signingKeys = options.signingKeys ?? toSigningKeys([await generateSigningKey()]);
  const mailTransport =
    options.mailTransport ??
    (config.mail.smtpUrl && config.mail.smtpUrl !== productionSettings.SMTP_URL
      ? createMailTransport(config, createLogger("silent"))
      : await TemporaryFileTransport.create());
  const readReplicas = new ReadReplicas(database, config.databaseReplicas, { poolSize: 2 }, createLogger("silent"));
  await readReplicas.start();
  const closeStores = async () => {
    await readReplicas.close();
    if (typeof options.store !== "object") await store.close();
    if (!options.database) await database.$disconnect();
    if (!options.mailTransport) {
      await mailTransport.close();
      if (mailTransport instanceof TemporaryFileTransport) await mailTransport.remove();
    }
  };
  const dependencies: AppDependencies = {
    config,
    database,
    laggingReads: readReplicas,
    store,
    signingKeys,
    encryptionKeys: options.encryptionKeys ?? testEncryptionKeys,
    hasher: options.hasher ?? fastHasher,
    mailTransport,
    logger: options.logger ?? createLogger("silent"),
    clock: options.clock,
    deliveryTuning: { ...testDeliveryTuning, ...options.deliveryTuning },
  };
  // As the server starts: the app, then the steps before it serves.
  const app = await createApp(dependencies).catch(async (error: unknown) => {
    await closeStores();
    throw error;
  });
  await prepareToServe(app, dependencies).catch(async (error: unknown) => {
    await app.close();
    await closeStores();
    throw error;
  });
  const { port } = await app.listen(0, "127.0.0.1");
  const baseUrl = `http://127.0.0.1:${port}`;
  const url = `${baseUrl}/graphql`;
  return {
    app,
    url,
    baseUrl,
    database,
    store,
    signingKeys,
    mailTransport,
    request: (query, variables, requestOptions) => graphql(url, query, variables, requestOptions),
    close: async () => {
      await app.close();
      await closeStores();
    },
  };
}
