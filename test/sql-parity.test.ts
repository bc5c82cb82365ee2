import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { primaryOnly } from "../src/db/read-replicas.js";
import { AccessTokens } from "../src/auth/access-tokens.js";
import { EncryptionKeys } from "../src/auth/encryption-keys.js";
import { MemoryStore } from "../src/store/memory-store.js";
import { generateSigningKey, toSigningKeys } from "../src/auth/signing-keys.js";
import { hashRefreshToken } from "../src/auth/refresh-tokens.js";
import { systemClock } from "../src/clock.js";
import { createDatabase, type Database } from "../src/db/prisma.js";
import { OutboxMailQueue } from "../src/events/mail-queue.js";
import { Outbox } from "../src/events/outbox.js";
import { Mailer } from "../src/mail/mailer.js";
import { createLogger } from "../src/observability/logger.js";
import { createServices } from "../src/services.js";
import { publicUserColumns, UsersService } from "../src/users/users.service.js";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { fastHasher, newAccount, testConfig } from "./helpers/server.js";

let testDatabase: TestDatabase;
let database: Database;
beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = createDatabase(testDatabase.url, { poolSize: 2 });
});
afterAll(async () => {
  await database.$disconnect();
  await testDatabase.drop();
});

// The hot reads and writes bypass Prisma: they must keep reading and writing exactly what Prisma would.
it("reads users' public fields by id exactly as Prisma does, in order, null for unknown and malformed ids", async () => {
  // One verified, one not: both forms of the verification instant.
  const created = await Promise.all(
    [newAccount(), newAccount()].map(({ email, username }, index) =>
      database.user.create({
        data: {
          email,
          username,
          usernameKey: username.toLowerCase(),
          passwordHash: "$argon2id$stored",
          emailVerifiedAt: index === 0 ? new Date("2026-01-02T03:04:05.678Z") : null,
        },
      }),
    ),
  );
  const [first, second] = await Promise.all(
    created.map((user) => database.user.findUniqueOrThrow({ where: { id: user.id }, select: publicUserColumns })),
  );
  const read = await new UsersService(database, primaryOnly(database)).findByIds([
    second!.id,
    randomUUID(),
    first!.id.toUpperCase(),
    "not-a-uuid",
  ]);
  expect(read).toStrictEqual([second, null, first, null]);
});

it("finds a login's account by e-mail or username key, with its password hash and credentials version", async () => {
  const { email, username } = newAccount();
  const created = await database.user.create({
    data: {
      email,
      username,
      usernameKey: username.toLowerCase(),
      passwordHash: "$argon2id$stored",
      credentialsVersion: 3,
      roles: ["admin", "support"],
      lockedAt: new Date(),
    },
  });
  const { passwordHash, credentialsVersion, id, emailVerifiedAt, createdAt, roles, lockedAt } = created;
  const expected = {
    user: { id, username, email, emailVerifiedAt, createdAt, roles, lockedAt },
    passwordHash,
    credentialsVersion,
    mfaEnabled: false,
  };
  const users = new UsersService(database, primaryOnly(database));
  expect(await users.findForLogin(email)).toStrictEqual(expected);
  expect(await users.findForLogin(username.toLowerCase())).toStrictEqual(expected);
  expect(await users.findForLoginById(id.toUpperCase())).toStrictEqual(expected);
  expect(await users.findForLoginById("not-an-id")).toBeNull();
  expect(await users.findForLogin(`nobody-${randomUUID()}`)).toBeNull();
});

it("stores a login's session and first refresh token as Prisma would", async () => {
  const account = newAccount();
  const encryptionKeys = EncryptionKeys.parse(EncryptionKeys.generate());
  const outbox = new Outbox({ eventReceivers: [], maxAgeSeconds: 86400 }, systemClock);
  const config = testConfig();
  const { accounts, sessions } = createServices({
    database,
    laggingReads: primaryOnly(database),
    store: new MemoryStore(),
    hasher: fastHasher,
    accessTokens: new AccessTokens(
      toSigningKeys([await generateSigningKey()]),
      { issuer: "users-subgraph", audience: "supergraph", ttlSeconds: 60 },
      systemClock,
    ),
    encryptionKeys,
    clock: systemClock,
    sessions: {
      ...config.sessions,
      lifetimes: { accessTokenTtlSeconds: 60, refreshTokenTtlSeconds: 3600, refreshReuseIntervalSeconds: 10 },
    },
    passwordAttempts: config.passwordAttempts,
    mfa: config.mfa,
    outbox,
    mailer: new Mailer(new OutboxMailQueue(outbox, encryptionKeys), {
      from: "test <test@example.com>",
      appUrl: "http://app.test",
    }),
    accounts: config.accounts,
    passkeys: config.passkeys,
    identityProviders: config.identityProviders,
    logger: createLogger("silent"),
  });
  const registered = await accounts.register(account);
  const client = { userAgent: "bench/1", ip: "192.0.2.7" };
  const login = await sessions.login({ usernameOrEmail: account.username, password: account.password }, client);
  // Only the public columns leave the service, whichever path read them.
  const publicKeys = ["createdAt", "email", "emailVerifiedAt", "id", "lockedAt", "roles", "username"];
  for (const { user } of [registered, login]) expect(Object.keys(user).sort()).toEqual(publicKeys);

  const session = await database.session.findFirstOrThrow({
    where: { userId: login.user.id, refreshTokens: { some: { tokenHash: hashRefreshToken(login.refreshToken) } } },
    include: { refreshTokens: true },
  });
  expect(session).toMatchObject({
    userAgent: "bench/1",
    lastUsedAt: session.createdAt,
    expiresAt: login.refreshTokenExpiresAt,
    accessTokenExpiresAt: new Date(session.createdAt.getTime() + 60_000),
    revokedAt: null,
    revokedReason: null,
  });
  expect(session.refreshTokens).toEqual([
    {
      tokenHash: hashRefreshToken(login.refreshToken),
      sessionId: session.id,
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
      rotatedAt: null,
      successorSalt: null,
      rotatedBy: null,
    },
  ]);
  // …with the login's event as SecurityEvents.record writes one.
  const event = await database.securityEvent.findFirstOrThrow({
    where: { userId: login.user.id, kind: "login_succeeded" },
  });
  expect(event).toEqual({
    id: expect.any(BigInt),
    at: session.createdAt,
    kind: "login_succeeded",
    userId: login.user.id,
    actorId: login.user.id,
    ip: client.ip,
    userAgent: client.userAgent,
    details: null,
  });
  // The refresh token it handed out works, and carries only public columns too.
  const refreshed = await sessions.refresh(login.refreshToken);
  expect(refreshed.user.id).toBe(login.user.id);
  expect(Object.keys(refreshed.user).sort()).toEqual(publicKeys);
});
