import { describe, expect, it } from "vitest";
import { exportPrivateJwks, generateSigningKey } from "../src/auth/signing-keys.js";
import { ConfigError, loadConfig } from "../src/config/config.js";

function problemsOf(environment: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("configuration", () => {
  it("runs on embedded defaults with an empty environment", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: "development",
      port: 4001,
      databaseUrl: undefined,
      redis: { url: undefined, clusterNodes: undefined, sentinels: undefined },
      introspection: true,
      migrateOnStart: true,
      logLevel: "info",
      passwordAttempts: {
        failuresPerClient: 5,
        failuresPerAccount: 20,
        failuresPerAddress: 100,
        windowSeconds: 900,
        registrationsPerAddress: 20,
        signInStartsPerAddress: 100,
      },
      trustProxy: [],
      sessions: {
        maxPerAccount: 100,
        reauthenticationWindowSeconds: 300,
        lifetimes: { accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 30 * 86400, refreshReuseIntervalSeconds: 10 },
      },
      jwt: { privateKeys: undefined, issuer: "users-subgraph", audience: "supergraph" },
      mfa: { totpIssuer: "users-subgraph" },
      mail: { smtpUrl: undefined, smtpTimeoutSeconds: 10, appUrl: "http://localhost:3000" },
      accounts: {
        requireEmailVerification: false,
        emailVerificationTtlSeconds: 86400,
        passwordResetTtlSeconds: 3600,
        mailRequestsPerHour: 5,
      },
    });
    expect(config.dataDir.endsWith(".data")).toBe(true);
  });

  it("reads every documented setting", () => {
    const config = loadConfig({
      PORT: "5000",
      DATABASE_URL: "postgresql://u:p@db:5432/users",
      REDIS_URL: "redis://cache:6379",
      DATA_DIR: "/tmp/somewhere",
      ACCESS_TOKEN_TTL: "5m",
      REFRESH_TOKEN_TTL: "7d",
      REFRESH_REUSE_INTERVAL: "0s",
      MAX_SESSIONS_PER_ACCOUNT: "5",
      LOG_LEVEL: "warn",
      LOGIN_FAILURES_PER_CLIENT: "3",
      LOGIN_FAILURES_PER_ACCOUNT: "30",
      LOGIN_FAILURES_PER_ADDRESS: "500",
      LOGIN_FAILURE_WINDOW: "1h",
      REGISTRATIONS_PER_ADDRESS: "5",
      SIGN_IN_STARTS_PER_ADDRESS: "7",
      TRUST_PROXY: "10.0.0.0/8, 192.0.2.1 fd00::/8",
      SMTP_URL: "smtp://relay:587",
      SMTP_TIMEOUT: "30s",
      MAIL_FROM: "no-reply@example.com",
      APP_URL: "http://localhost:5173",
      REQUIRE_EMAIL_VERIFICATION: "true",
      EMAIL_VERIFICATION_TTL: "2d",
      PASSWORD_RESET_TTL: "30m",
      MAIL_REQUESTS_PER_HOUR: "20",
    });
    expect(config).toMatchObject({
      mail: {
        smtpUrl: "smtp://relay:587",
        smtpTimeoutSeconds: 30,
        from: "no-reply@example.com",
        appUrl: "http://localhost:5173",
      },
      accounts: {
        requireEmailVerification: true,
        emailVerificationTtlSeconds: 2 * 86400,
        passwordResetTtlSeconds: 1800,
        mailRequestsPerHour: 20,
      },
      port: 5000,
      databaseUrl: "postgresql://u:p@db:5432/users",
      redis: { url: "redis://cache:6379" },
      dataDir: "/tmp/somewhere",
      logLevel: "warn",
      passwordAttempts: {
        failuresPerClient: 3,
        failuresPerAccount: 30,
        failuresPerAddress: 500,
        windowSeconds: 3600,
        registrationsPerAddress: 5,
        signInStartsPerAddress: 7,
      },
      trustProxy: [
        { address: "10.0.0.0", prefix: 8, family: "ipv4" },
        { address: "192.0.2.1", prefix: 32, family: "ipv4" },
        { address: "fd00::", prefix: 8, family: "ipv6" },
      ],
      sessions: {
        maxPerAccount: 5,
        lifetimes: { accessTokenTtlSeconds: 300, refreshTokenTtlSeconds: 7 * 86400, refreshReuseIntervalSeconds: 0 },
      },
    });
  });

  it("in production, lists every missing required setting at once", async () => {
    const problems = problemsOf({ NODE_ENV: "production" });
    expect(problems).toHaveLength(8);
    for (const name of [
      "DATABASE_URL",
      "REDIS_URL",
      "JWT_PRIVATE_KEYS",
      "ENCRYPTION_KEYS",
      "SMTP_URL",
      "MAIL_FROM",
      "APP_URL",
      "WEBAUTHN_ORIGINS",
    ]) {
      expect(problems.some((problem) => problem.startsWith(`${name} `))).toBe(true);
    }
    const config = loadConfig({
      NODE_ENV: "production",
      DATABASE_URL: "postgres://db/users",
      REDIS_URL: "redis://cache",
      JWT_PRIVATE_KEYS: await exportPrivateJwks([await generateSigningKey()]),
      ENCRYPTION_KEYS: "k1:key",
      SMTP_URL: "smtps://mailer:secret@smtp.example.com:465",
      MAIL_FROM: "Example <no-reply@example.com>",
      APP_URL: "https://app.example.com/",
      WEBAUTHN_RP_ID: "example.com",
      WEBAUTHN_ORIGINS: "https://app.example.com, https://example.com",
    });
    expect(config.passkeys.origins).toEqual(["https://app.example.com", "https://example.com"]);
    expect(config.mail).toEqual({
      smtpUrl: "smtps://mailer:secret@smtp.example.com:465",
      smtpTimeoutSeconds: 10,
      from: "Example <no-reply@example.com>",
      appUrl: "https://app.example.com",
    });
    expect(config.introspection).toBe(false);
    expect(config.migrateOnStart).toBe(false);
  });

  it("reads the passkey settings: the relying party from the app's address unless told, origins normalized", () => {
    expect(loadConfig({ APP_URL: "http://localhost:5173/app", TOTP_ISSUER: "Example" })).toMatchObject({
      passkeys: { rpId: "localhost", rpName: "Example", origins: ["http://localhost:5173"], challengeTtlSeconds: 300 },
      sessions: { reauthenticationWindowSeconds: 300 },
      mfa: { totpIssuer: "Example" },
    });
    const config = loadConfig({
      WEBAUTHN_RP_ID: "Example.COM",
      WEBAUTHN_RP_NAME: "Example Accounts",
      WEBAUTHN_ORIGINS: "https://App.Example.com/, https://example.com:8443,https://app.example.com",
      WEBAUTHN_CHALLENGE_TTL: "2m",
      REAUTHENTICATION_WINDOW: "0s",
    });
    expect(config.passkeys).toEqual({
      rpId: "example.com",
      rpName: "Example Accounts",
      origins: ["https://app.example.com", "https://example.com:8443"],
      challengeTtlSeconds: 120,
    });
    // 0s: every sensitive change asks for the password.
    expect(config.sessions.reauthenticationWindowSeconds).toBe(0);
  });

  it("refuses passkey settings that could never work, naming each", () => {
    const problems = problemsOf({
      WEBAUTHN_RP_ID: "127.0.0.1",
      WEBAUTHN_ORIGINS: "https://app.example.com/login, ftp://files.example.com",
      WEBAUTHN_CHALLENGE_TTL: "later",
      REAUTHENTICATION_WINDOW: "-5m",
    });
    expect(problems).toHaveLength(4);
    expect(problems.join("\n")).toMatch(/WEBAUTHN_RP_ID must be a domain name/);
    expect(problems.join("\n")).toMatch(
      /WEBAUTHN_ORIGINS .*"https:\/\/app\.example\.com\/login", "ftp:\/\/files\.example\.com"/,
    );
    for (const name of ["WEBAUTHN_CHALLENGE_TTL", "REAUTHENTICATION_WINDOW"])
      expect(problems.join("\n")).toContain(name);
    // In production, an origin the RP ID does not cover is a configuration error too.
    const production = problemsOf({
      NODE_ENV: "production",
      WEBAUTHN_ORIGINS: "https://app.example.com, http://localhost:3000",
    });
    expect(production.filter((problem) => problem.startsWith("WEBAUTHN_ORIGINS "))).toEqual([
      "WEBAUTHN_ORIGINS lists https://app.example.com, which is not on WEBAUTHN_RP_ID localhost or a subdomain of it",
    ]);
  });

  it("reports every malformed value, not only the first", () => {
    const problems = problemsOf({
      PORT: "eighty",
      ACCESS_TOKEN_TTL: "soon",
      DATABASE_URL: "mysql://x",
      LOG_LEVEL: "loud",
      LOGIN_FAILURES_PER_CLIENT: "0",
      MAX_SESSIONS_PER_ACCOUNT: "0",
      TRUST_PROXY: "10.0.0.0/8, proxy.internal",
      SMTP_URL: "http://not-smtp",
      MAIL_FROM: "nobody",
      APP_URL: "app.example.com",
    });
    expect(problems).toHaveLength(10);
    for (const name of ["SMTP_URL", "MAIL_FROM", "APP_URL"]) expect(problems.join("\n")).toContain(name);
    expect(problems.join("\n")).toMatch(/PORT/);
    expect(problems.join("\n")).toMatch(/ACCESS_TOKEN_TTL/);
    expect(problems.join("\n")).toMatch(/DATABASE_URL/);
    expect(problems.join("\n")).toMatch(/LOG_LEVEL/);
    expect(problems.join("\n")).toMatch(/LOGIN_FAILURES_PER_CLIENT/);
    expect(problems.join("\n")).toMatch(/MAX_SESSIONS_PER_ACCOUNT/);
    expect(problems.join("\n")).toMatch(/TRUST_PROXY .*"proxy\.internal"/);
  });

  it("takes only bare addresses in ADMIN_EMAILS, and shows what it refused with its control characters visible", () => {
    expect(loadConfig({ ADMIN_EMAILS: " Ada@Example.com ,grace@example.org,ada@example.com" }).adminEmails).toEqual([
      "ada@example.com",
      "grace@example.org",
    ]);
    const refused: [string, string][] = [
      ["X<evil@evil.example>", '"x<evil@evil.example>"'],
      ["X:evil@example.com", '"x:evil@example.com"'],
      ["X@example.com;evil", '"x@example.com;evil"'],
      ["X@example.com>", '"x@example.com>"'],
      ["a\u001bb@example.com", '"a\\u{001b}b@example.com"'],
      ["a\u0085b@example.com", '"a\\u{0085}b@example.com"'],
      ["ok@example.com,evil", '"evil"'],
    ];
    for (const [value, shown] of refused) {
      const problems = problemsOf({ ADMIN_EMAILS: value });
      expect(problems, value).toHaveLength(1);
      expect(problems[0]).toMatch(/^ADMIN_EMAILS /);
      expect(problems[0]).toContain(`(not: ${shown})`);
    }
  });

  it("takes CORS_ORIGINS as web origins, defaulting to APP_URL's, and shows what it refused", () => {
    expect(loadConfig({}).browser).toEqual({
      corsOrigins: ["http://localhost:3000"],
      sessionCookieMaxAgeSeconds: 30 * 86400,
    });
    expect(loadConfig({ APP_URL: "https://App.Example.com:443/account/" }).browser.corsOrigins).toEqual([
      "https://app.example.com",
    ]);
    const listed = loadConfig({
      CORS_ORIGINS: "https://app.example.com, http://localhost:5173/,https://App.example.com",
      REFRESH_TOKEN_TTL: "12h",
    });
    expect(listed.browser).toEqual({
      corsOrigins: ["https://app.example.com", "http://localhost:5173"],
      sessionCookieMaxAgeSeconds: 12 * 3600,
    });
    const refused = [
      "*",
      "app.example.com",
      "https://app.example.com/path",
      "ftp://files.example.com",
      "https://user@app.example.com",
      "https://app.example.com?",
      "https://app.example.com/#",
      "https://a.example.com https://b.example.com",
    ];
    const problems = problemsOf({ CORS_ORIGINS: refused.join(",") });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^CORS_ORIGINS must be comma-separated origins/);
    for (const entry of refused) expect(problems[0]).toContain(`"${entry}"`);
    // The same parsing as WEBAUTHN_ORIGINS, which refuses an empty query or fragment alike.
    expect(problemsOf({ WEBAUTHN_ORIGINS: "http://localhost:3000?" })).toHaveLength(1);
  });

  it("checks key material when it reads the configuration, with the other settings' problems", () => {
    const publicOnly = JSON.stringify({ kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" });
    for (const garbage of [
      "garbage",
      "{ nope",
      publicOnly,
      '{"keys":[]}',
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
    ]) {
      const problems = problemsOf({ JWT_PRIVATE_KEYS: garbage, PORT: "eighty" });
      expect(problems, garbage).toHaveLength(2);
      expect(problems.find((problem) => problem.startsWith("JWT_PRIVATE_KEYS "))).toBeDefined();
    }
  });

  it("reads a Redis Cluster or Sentinels, one at a time, and lets either stand for REDIS_URL in production", async () => {
    const cluster = loadConfig({ REDIS_CLUSTER_NODES: "redis-1:7000, [fd00::1]:7001,10.0.0.3:7002" });
    expect(cluster.redis.clusterNodes).toEqual([
      { host: "redis-1", port: 7000 },
      { host: "fd00::1", port: 7001 },
      { host: "10.0.0.3", port: 7002 },
    ]);
    const sentinels = loadConfig({ REDIS_SENTINELS: "s1:26379,s2:26379", REDIS_SENTINEL_NAME: "users" });
    expect(sentinels.redis.sentinels).toEqual({
      nodes: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26379 },
      ],
      name: "users",
    });
    for (const [environment, name] of [
      [{ REDIS_CLUSTER_NODES: "redis-1" }, "REDIS_CLUSTER_NODES"],
      [{ REDIS_CLUSTER_NODES: "redis-1:99999" }, "REDIS_CLUSTER_NODES"],
      [{ REDIS_CLUSTER_NODES: " , " }, "REDIS_CLUSTER_NODES"],
      [{ REDIS_SENTINELS: "s1:26379" }, "REDIS_SENTINEL_NAME"],
      [{ REDIS_SENTINEL_NAME: "users" }, "REDIS_SENTINEL_NAME"],
      [{ REDIS_CLUSTER_NODES: "a:1", REDIS_SENTINELS: "s:2", REDIS_SENTINEL_NAME: "users" }, "REDIS_SENTINELS"],
    ] as const) {
      const problems = problemsOf(environment);
      expect(problems, JSON.stringify(environment)).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${name} `));
    }
    const production = {
      NODE_ENV: "production",
      DATABASE_URL: "postgres://db/users",
      JWT_PRIVATE_KEYS: await exportPrivateJwks([await generateSigningKey()]),
      ENCRYPTION_KEYS: "k1:key",
      SMTP_URL: "smtp://mail",
      MAIL_FROM: "no-reply@example.com",
      APP_URL: "https://app.example.com",
      WEBAUTHN_RP_ID: "example.com",
      WEBAUTHN_ORIGINS: "https://app.example.com",
    };
    expect(problemsOf(production)).toEqual([
      "REDIS_URL is required in production (or REDIS_CLUSTER_NODES, or REDIS_SENTINELS)",
    ]);
    expect(problemsOf({ ...production, REDIS_CLUSTER_NODES: "redis-1:7000" })).toEqual([]);
    expect(problemsOf({ ...production, REDIS_SENTINELS: "s1:26379", REDIS_SENTINEL_NAME: "users" })).toEqual([]);
  });

  it("reads read replicas and their lag bound, and names a bad URL without echoing it", () => {
    expect(loadConfig({}).databaseReplicas).toEqual({ urls: [], maxLagSeconds: 10 });
    expect(
      loadConfig({
        DATABASE_REPLICA_URLS: "postgres://u:p@replica-1/users, postgresql://u:p@replica-2/users",
        DATABASE_REPLICA_MAX_LAG: "2s",
      }).databaseReplicas,
    ).toEqual({ urls: ["postgres://u:p@replica-1/users", "postgresql://u:p@replica-2/users"], maxLagSeconds: 2 });
    const problems = problemsOf({
      DATABASE_REPLICA_URLS: "postgres://u:p@replica-1/users,mysql://u:s3cret@other/db",
      DATABASE_REPLICA_MAX_LAG: "soon",
    });
    expect(problems).toHaveLength(2);
    expect(problems.join("\n")).toMatch(/^DATABASE_REPLICA_URLS /m);
    expect(problems.join("\n")).toMatch(/^DATABASE_REPLICA_MAX_LAG /m);
    expect(problems.join("\n")).not.toContain("s3cret");
  });

  it("reads where events go, and refuses what could not be delivered or verified", () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    const config = loadConfig({
      REDIS_URL: "redis://cache:6379",
      EVENT_WEBHOOK_URLS: "https://orders.internal/hooks/users, http://user:pass@posts.internal:8080/events?token=x",
      EVENT_WEBHOOK_SECRET: secret,
      EVENT_STREAM: "users:events",
      EVENT_DELIVERY_TIMEOUT: "500ms",
      EVENT_DELIVERY_MAX_AGE: "1d",
      EVENT_RETENTION: "30d",
    });
    expect(config.events).toEqual({
      webhookUrls: ["https://orders.internal/hooks/users", "http://user:pass@posts.internal:8080/events?token=x"],
      webhookSecrets: [Buffer.alloc(32, 7)],
      stream: { key: "users:events", maxLength: 100_000 },
      deliveryTimeoutMs: 500,
      maxAgeSeconds: 86400,
      retentionSeconds: 30 * 86400,
    });
    expect(loadConfig({}).events).toMatchObject({
      webhookUrls: [],
      stream: undefined,
      deliveryTimeoutMs: 10_000,
      maxAgeSeconds: 3 * 86400,
      retentionSeconds: 7 * 86400,
    });

    const refused: [NodeJS.ProcessEnv, string][] = [
      [{ EVENT_WEBHOOK_URLS: "https://a.example/hook" }, "EVENT_WEBHOOK_SECRET "],
      [{ EVENT_WEBHOOK_URLS: "ftp://a.example/hook", EVENT_WEBHOOK_SECRET: secret }, "EVENT_WEBHOOK_URLS "],
      [
        { EVENT_WEBHOOK_URLS: "https://a.example/hook https://x:y@a.example/hook?z", EVENT_WEBHOOK_SECRET: secret },
        "EVENT_WEBHOOK_URLS ",
      ],
      [{ EVENT_WEBHOOK_SECRET: "not-a-secret" }, "EVENT_WEBHOOK_SECRET "],
      [{ EVENT_WEBHOOK_SECRET: "whsec_dG9vIHNob3J0" }, "EVENT_WEBHOOK_SECRET "],
      [{ EVENT_STREAM: "users:events" }, "EVENT_STREAM "],
      [{ EVENT_DELIVERY_TIMEOUT: "0s" }, "EVENT_DELIVERY_TIMEOUT "],
    ];
    for (const [environment, problem] of refused) {
      const problems = problemsOf(environment);
      expect(problems, JSON.stringify(environment)).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${problem}`));
    }
    // A malformed URL is pointed at, never quoted: it may hold a receiver's credentials.
    expect(
      problemsOf({
        EVENT_WEBHOOK_URLS: "https://ok.example/h, ftp://secret-user:secret-pass@x",
        EVENT_WEBHOOK_SECRET: secret,
      })[0],
    ).not.toContain("secret-pass");
    // The stream lives in the store's Redis, however it is reached.
    expect(problemsOf({ EVENT_STREAM: "users:events", REDIS_CLUSTER_NODES: "redis-1:7000" })).toEqual([]);
    expect(
      problemsOf({ EVENT_STREAM: "users:events", REDIS_SENTINELS: "s1:26379", REDIS_SENTINEL_NAME: "users" }),
    ).toEqual([]);
  });
});

describe("identity provider settings", () => {
  const oidc = {
    id: "company",
    name: "Company SSO",
    issuer: "https://sso.example.com",
    clientId: "users",
    clientSecret: "s3cret-value",
  };

  it("has no provider by default, and the app's /auth/callback as the one redirect URI", () => {
    expect(loadConfig({ APP_URL: "https://app.example.com/" }).identityProviders).toEqual({
      providers: [],
      redirectUris: ["https://app.example.com/auth/callback"],
      timeoutSeconds: 10,
    });
  });

  it("reads OpenID Connect and GitHub providers with their defaults, and redirect URIs normalized", () => {
    const config = loadConfig({
      IDENTITY_PROVIDERS: JSON.stringify([
        oidc,
        { kind: "github", id: "github", name: "GitHub", clientId: "gh", clientSecret: "ghs" },
      ]),
      REDIRECT_URIS: "https://APP.example.com:443/auth/callback, http://localhost:3000/cb",
      IDENTITY_PROVIDER_TIMEOUT: "1500ms",
    });
    expect(config.identityProviders).toEqual({
      providers: [
        { kind: "oidc", ...oidc, scopes: ["email", "profile"] },
        {
          kind: "github",
          id: "github",
          name: "GitHub",
          clientId: "gh",
          clientSecret: "ghs",
          scopes: ["read:user", "user:email"],
          webUrl: "https://github.com",
          apiUrl: "https://api.github.com",
        },
      ],
      redirectUris: ["https://app.example.com/auth/callback", "http://localhost:3000/cb"],
      timeoutSeconds: 1.5,
    });
  });

  it("names every problem with its place, and never quotes a client secret", () => {
    const problems = problemsOf({
      IDENTITY_PROVIDERS: JSON.stringify([
        oidc,
        { ...oidc, id: "Company!", issuer: "ftp://sso.example.com", extra: true },
        { kind: "saml", id: "saml" },
        { ...oidc, id: "other", clientSecret: "" },
        oidc,
        { kind: "github", id: "gh", name: "GitHub", clientId: "gh", clientSecret: "s3cret-value", webUrl: "not a url" },
      ]),
      REDIRECT_URIS: "https://app.example.com/cb?next=/, /relative",
    });
    expect(problems).toEqual([
      'IDENTITY_PROVIDERS.1.id must be 1–32 of "a-z 0-9 _ -", starting with a letter or digit',
      "IDENTITY_PROVIDERS.1.issuer must be an http:// or https:// URL without credentials",
      'IDENTITY_PROVIDERS.1 Unrecognized key: "extra"',
      'IDENTITY_PROVIDERS.2.kind must be "oidc" (the default) or "github"',
      "IDENTITY_PROVIDERS.3.clientSecret Too small: expected string to have >=1 characters",
      "IDENTITY_PROVIDERS.4.id names another provider too: ids must differ",
      "IDENTITY_PROVIDERS.5.webUrl must be an http:// or https:// URL without credentials",
      'REDIRECT_URIS must list http(s) URLs without query, fragment or credentials (got "https://app.example.com/cb?next=/")',
      'REDIRECT_URIS must list absolute URLs (got "/relative")',
    ]);
    expect(problems.join("\n")).not.toContain("s3cret");
    expect(problemsOf({ IDENTITY_PROVIDERS: "not json" })).toEqual([
      "IDENTITY_PROVIDERS must be a JSON list of providers",
    ]);
    expect(problemsOf({ IDENTITY_PROVIDERS: JSON.stringify(oidc) })).toEqual([
      "IDENTITY_PROVIDERS must be a JSON list of providers",
    ]);
  });

  it("requires https provider addresses in production", () => {
    const problems = problemsOf({
      NODE_ENV: "production",
      IDENTITY_PROVIDERS: JSON.stringify([{ ...oidc, issuer: "http://sso.example.com" }]),
    });
    expect(problems).toContain(
      "IDENTITY_PROVIDERS must use https:// addresses in production (not http://sso.example.com)",
    );
  });
});
