import path from "node:path";
import { z } from "zod";
import { accountGroup, type AccountSettings } from "../accounts/settings.js";
import type { ReadReplicaSettings } from "../db/read-replicas.js";
import { databaseReplicaGroup } from "../db/settings.js";
import { type EventSettings, eventGroup } from "../events/settings.js";
import type { OperationLimits } from "../graphql/operation-limits.js";
import { browserGroup, type BrowserSettings } from "../http/browser-origins.js";
import type { AddressRange } from "../http/client-address.js";
import { identityProviderGroup, type IdentityProviderSettings } from "../identities/settings.js";
import { mfaGroup, type MfaSettings } from "../mfa/settings.js";
import type { PasskeySettings } from "../passkeys/relying-party.js";
import { passkeyGroup } from "../passkeys/settings.js";
import type { PasswordAttemptLimits } from "../rate-limit/password-attempts.js";
import { sessionGroup, type SessionSettings } from "../sessions/settings.js";
import type { RedisTarget } from "../store/redis-connection.js";
import { redisGroup } from "../store/settings.js";
import {
  addressRanges,
  booleanFlag,
  checkPrivateKeys,
  count,
  duration,
  emailList,
  positiveInt,
  url,
} from "./parsers.js";
import { checkProductionSettings } from "./production.js";

const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    HOST: z.string().min(1).default("0.0.0.0"),
    PORT: z.coerce.number().int().min(0).max(65535).default(4001),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    SHUTDOWN_DRAIN_PERIOD: duration("5s"),
    DATABASE_URL: url(["postgres:", "postgresql:"]),
    ...databaseReplicaGroup.variables,
    DATABASE_REPLICA_MAX_LAG: duration("10s"),
    REDIS_URL: url(["redis:", "rediss:"]),
    REDIS_KEY_PREFIX: z.string().default("users:"),
    ...redisGroup.variables,
    DATA_DIR: z.string().min(1).default(".data"),
    JWT_PRIVATE_KEYS: z.string().trim().min(1).superRefine(checkPrivateKeys).optional(),
    ENCRYPTION_KEYS: z.string().trim().min(1).optional(),
    ...mfaGroup.variables,
    ...passkeyGroup.variables,
    WEBAUTHN_CHALLENGE_TTL: duration("5m"),
    REAUTHENTICATION_WINDOW: duration("5m", true),
    JWT_ISSUER: z.string().min(1).default("users-subgraph"),
    JWT_AUDIENCE: z.string().min(1).default("supergraph"),
    ACCESS_TOKEN_TTL: duration("15m"),
    REFRESH_TOKEN_TTL: duration("30d"),
    REFRESH_REUSE_INTERVAL: duration("10s", true),
    MAX_SESSIONS_PER_ACCOUNT: count(100),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
    INTROSPECTION: booleanFlag.optional(),
    MIGRATE_ON_START: booleanFlag.optional(),
    LOGIN_FAILURES_PER_CLIENT: count(5),
    LOGIN_FAILURES_PER_ACCOUNT: count(20),
    LOGIN_FAILURES_PER_ADDRESS: count(100),
    LOGIN_FAILURE_WINDOW: duration("15m"),
    REGISTRATIONS_PER_ADDRESS: count(20),
    SIGN_IN_STARTS_PER_ADDRESS: count(100),
    TRUST_PROXY: addressRanges,
    SMTP_URL: url(["smtp:", "smtps:"]),
    SMTP_TIMEOUT: duration("10s"),
    MAIL_FROM: z
      .string()
      .trim()
      .regex(/\S@\S/, "must be an e-mail address, optionally with a name: Name <no-reply@example.com>")
      .optional(),
    APP_URL: url(["http:", "https:"]),
    ...browserGroup.variables,
    REQUIRE_EMAIL_VERIFICATION: booleanFlag.default(false),
    EMAIL_VERIFICATION_TTL: duration("24h"),
    PASSWORD_RESET_TTL: duration("1h"),
    MAIL_REQUESTS_PER_HOUR: z.coerce.number().int().min(1).default(5),
    ADMIN_EMAILS: emailList,
    SECURITY_EVENT_RETENTION: duration("365d"),
    DATABASE_STATEMENT_TIMEOUT: duration("5s"),
    DATABASE_CONNECT_TIMEOUT: duration("3s"),
    REDIS_COMMAND_TIMEOUT: duration("2s"),
    DEPENDENCY_ERROR_LOG_INTERVAL: duration("10s"),
    PASSWORD_HASHING_QUEUE_LIMIT: positiveInt(32),
    PASSWORD_HASHING_QUEUE_TIMEOUT: duration("1s"),
    MAX_TOKENS: positiveInt(1000),
    MAX_DEPTH: positiveInt(6),
    MAX_ALIASES: positiveInt(15),
    MAX_DIRECTIVES: positiveInt(50),
    MAX_COST: positiveInt(5000),
    MAX_PASSWORD_OPERATIONS: positiveInt(1),
    MAX_ENTITIES: positiveInt(1000),
    ...identityProviderGroup.variables,
    IDENTITY_PROVIDER_TIMEOUT: duration("10s"),
    ...eventGroup.variables,
    EVENT_STREAM_MAX_LENGTH: positiveInt(100_000),
    EVENT_DELIVERY_TIMEOUT: duration("10s"),
    EVENT_DELIVERY_MAX_AGE: duration("3d"),
    EVENT_RETENTION: duration("7d"),
  })
  .superRefine((env, ctx) => {
    redisGroup.check(env, ctx);
    eventGroup.check(env, ctx);
    checkProductionSettings(env, ctx);
  });

/** The name of every setting the configuration reads; docs/api.md documents each. */
export const settingNames = Object.keys(envSchema.shape);

export interface Config {
  env: "development" | "production" | "test";
  host: string;
  port: number;
  /** Absent: /metrics on the API port. */
  metricsPort?: number;
  /** After SIGTERM, how long readiness answers 503 while everything is still served. */
  shutdownDrainPeriodMs: number;
  /** Absent: an embedded PostgreSQL under `dataDir`. */
  databaseUrl?: string;
  /** Streaming replicas of that PostgreSQL for the reads that may lag. */
  databaseReplicas: ReadReplicaSettings;
  /** One Redis server, a Redis Cluster or a Sentinel-watched master; none named: the in-process store. */
  redis: RedisTarget;
  redisKeyPrefix: string;
  dataDir: string;
  jwt: {
    /** Absent: a key generated once and kept under `dataDir`. */
    privateKeys?: string;
    issuer: string;
    audience: string;
  };
  /** How many sessions one account may have, how long their tokens live, how long a sign-in counts as recent. */
  sessions: SessionSettings;
  /** Absent: a key generated once and kept under `dataDir`. */
  encryptionKeys?: string;
  mfa: MfaSettings;
  passkeys: PasskeySettings;
  logLevel: string;
  /** Absent: readable on a terminal outside production, JSON otherwise. */
  logFormat?: "json" | "pretty";
  /** Plain introspection and the Sandbox landing page; `_service` (composition) is always served. */
  introspection: boolean;
  migrateOnStart: boolean;
  passwordAttempts: PasswordAttemptLimits;
  /** Proxies whose X-Forwarded-For / Forwarded is believed; none by default. */
  trustProxy: AddressRange[];
  mail: {
    /** Absent (development only): every message is written as an `.eml` file under `dataDir/mail/`. */
    smtpUrl?: string;
    /** Longest wait on the mail server for one step (connect, greeting, each command). */
    smtpTimeoutSeconds: number;
    from: string;
    /** Where the app's pages live: links in mails point at `appUrl/verify-email`, `appUrl/reset-password`. */
    appUrl: string;
  };
  /** Browsers' pages: which origins may call with credentials, and the session cookie. */
  browser: BrowserSettings;
  /** Whether unverified addresses may sign in, and the links mailed to verify one or reset a password. */
  accounts: AccountSettings;
  /** Accounts made admins at start (those that exist). */
  adminEmails: string[];
  /** How long security events are kept. */
  securityEventRetentionSeconds: number;
  /** Bounded waits on the dependencies; past them a request answers SERVICE_UNAVAILABLE. */
  timeouts: { databaseStatementMs: number; databaseConnectMs: number; redisCommandMs: number };
  /** Identical dependency errors are logged once per this interval, with their count. */
  dependencyErrorLogIntervalMs: number;
  /** Password hashes that may wait for a free hashing slot, and how long; past either requests fail fast. */
  passwordHashingQueue: { maxWaiting: number; maxWaitMs: number };
  /** What one operation may contain, checked before it runs. */
  limits: OperationLimits;
  /** Sign-in with OpenID Connect providers and GitHub; no provider by default. */
  identityProviders: IdentityProviderSettings;
  /** User events to webhooks and a Redis stream, through the outbox that also carries mail. */
  events: EventSettings;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Every variable parsed, or ConfigError with every problem at the same time. */
function parseEnvironment(environment: NodeJS.ProcessEnv): z.output<typeof envSchema> {
  // An empty variable means "not set", as in most shells' `VAR= command`.
  const present = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== ""));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`));
  }
  return parsed.data;
}

/** Parses the environment once, reporting every problem at the same time. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const env = parseEnvironment(environment);
  const production = env.NODE_ENV === "production";
  const appUrl = (env.APP_URL ?? "http://localhost:3000").replace(/\/+$/, "");
  return {
    env: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    shutdownDrainPeriodMs: env.SHUTDOWN_DRAIN_PERIOD * 1000,
    databaseUrl: env.DATABASE_URL,
    databaseReplicas: databaseReplicaGroup.settings(env),
    redis: redisGroup.settings(env),
    redisKeyPrefix: env.REDIS_KEY_PREFIX,
    dataDir: path.resolve(env.DATA_DIR),
    jwt: {
      privateKeys: env.JWT_PRIVATE_KEYS,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
    },
    sessions: sessionGroup.settings(env),
    encryptionKeys: env.ENCRYPTION_KEYS,
    mfa: mfaGroup.settings(env),
    passkeys: passkeyGroup.settings(env, appUrl),
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    introspection: env.INTROSPECTION ?? !production,
    migrateOnStart: env.MIGRATE_ON_START ?? !production,
    passwordAttempts: {
      failuresPerClient: env.LOGIN_FAILURES_PER_CLIENT,
      failuresPerAccount: env.LOGIN_FAILURES_PER_ACCOUNT,
      failuresPerAddress: env.LOGIN_FAILURES_PER_ADDRESS,
      windowSeconds: env.LOGIN_FAILURE_WINDOW,
      registrationsPerAddress: env.REGISTRATIONS_PER_ADDRESS,
      signInStartsPerAddress: env.SIGN_IN_STARTS_PER_ADDRESS,
    },
    trustProxy: env.TRUST_PROXY,
    mail: {
      smtpUrl: env.SMTP_URL,
      smtpTimeoutSeconds: env.SMTP_TIMEOUT,
      from: env.MAIL_FROM ?? "users subgraph <no-reply@localhost>",
      appUrl,
    },
    browser: browserGroup.settings(env, appUrl),
    accounts: accountGroup.settings(env),
    adminEmails: env.ADMIN_EMAILS,
    securityEventRetentionSeconds: env.SECURITY_EVENT_RETENTION,
    timeouts: {
      databaseStatementMs: env.DATABASE_STATEMENT_TIMEOUT * 1000,
      databaseConnectMs: env.DATABASE_CONNECT_TIMEOUT * 1000,
      redisCommandMs: env.REDIS_COMMAND_TIMEOUT * 1000,
    },
    dependencyErrorLogIntervalMs: env.DEPENDENCY_ERROR_LOG_INTERVAL * 1000,
    passwordHashingQueue: {
      maxWaiting: env.PASSWORD_HASHING_QUEUE_LIMIT,
      maxWaitMs: env.PASSWORD_HASHING_QUEUE_TIMEOUT * 1000,
    },
    limits: {
      tokens: env.MAX_TOKENS,
      depth: env.MAX_DEPTH,
      aliases: env.MAX_ALIASES,
      directives: env.MAX_DIRECTIVES,
      cost: env.MAX_COST,
      passwordOperations: env.MAX_PASSWORD_OPERATIONS,
      entities: env.MAX_ENTITIES,
    },
    identityProviders: identityProviderGroup.settings(env, appUrl),
    events: eventGroup.settings(env),
  };
}

/** For entry points: the configuration, or every problem printed and the process ended with status 1. */
export function loadConfigOrExit(environment: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(environment);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
