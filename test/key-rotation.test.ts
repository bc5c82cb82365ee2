import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  exportPrivateJwks,
  generateSigningKey,
  parseSigningKeys,
  SigningKeyError,
  toSigningKeys,
  type SigningKey,
} from "../src/auth/signing-keys.js";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { errorCodes, mutations, sessionMutations } from "../harness/graphql.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

let database: TestDatabase;
let oldKey: SigningKey;
let newKey: SigningKey;
beforeAll(async () => {
  database = await createTestDatabase();
  [oldKey, newKey] = await Promise.all([generateSigningKey("EdDSA"), generateSigningKey("ES256")]);
});
afterAll(() => database.drop());

const kidOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()).kid;

describe("JWT_PRIVATE_KEYS", () => {
  it("reads a JWK set newest first: the first key signs, every key verifies", async () => {
    const keys = await parseSigningKeys(await exportPrivateJwks([newKey, oldKey]));
    expect(keys.signing.kid).toBe(newKey.kid);
    expect([...keys.byKid.keys()]).toEqual([newKey.kid, oldKey.kid]);
    expect(keys.jwks.keys.map((key) => key.alg)).toEqual(["ES256", "EdDSA"]);
    // Only public halves are published.
    for (const jwk of keys.jwks.keys) expect(jwk.d).toBeUndefined();
  });

  it("reads PEM private keys, with kids derived from their thumbprints", async () => {
    const pem = [newKey, oldKey].map((key) => key.privateKey.export({ format: "pem", type: "pkcs8" })).join("\n");
    const keys = await parseSigningKeys(pem);
    expect(keys.signing.kid).toBe(newKey.kid);
    expect(keys.byKid.size).toBe(2);
  });

  it("refuses what cannot sign: garbage, public keys, unsupported curves, an empty set", async () => {
    const publicOnly = JSON.stringify({ keys: [newKey.publicJwk] });
    for (const text of ["not a key", "{ nope", publicOnly, '{"keys":[]}']) {
      await expect(parseSigningKeys(text), text).rejects.toBeInstanceOf(SigningKeyError);
    }
  });
});

describe("rotating signing keys", () => {
  const servers: TestServer[] = [];
  afterAll(() => Promise.all(servers.map((server) => server.close())));

  async function serverWith(keys: SigningKey[]) {
    const server = await startTestServer({
      databaseUrl: database.url,
      store: "redis",
      signingKeys: toSigningKeys(keys),
    });
    servers.push(server);
    return server;
  }

  it("keeps tokens of the old key working while it is listed, signs new ones with the new key, publishes both", async () => {
    const before = await serverWith([oldKey]);
    const account = newAccount();
    const issuedBefore = (await before.request(mutations.register, { input: account })).data!.register.accessToken;
    expect(kidOf(issuedBefore)).toBe(oldKey.kid);

    const during = await serverWith([newKey, oldKey]);
    const me = await during.request(mutations.me, {}, { token: issuedBefore });
    expect(me.errors).toBeUndefined();
    expect(me.data!.me.username).toBe(account.username);

    const issuedDuring = (
      await during.request(mutations.login, {
        input: { usernameOrEmail: account.username, password: account.password },
      })
    ).data!.login.accessToken;
    expect(kidOf(issuedDuring)).toBe(newKey.kid);

    const jwks = (await (await fetch(`${during.baseUrl}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string; d?: string }[];
    };
    expect(jwks.keys.map((key) => key.kid)).toEqual([newKey.kid, oldKey.kid]);
    for (const key of jwks.keys) expect(key.d).toBeUndefined();

    // Once the old key is retired, its tokens stop working; the new key's go on.
    const after = await serverWith([newKey]);
    expect(errorCodes(await after.request(mutations.me, {}, { token: issuedBefore }))).toEqual(["UNAUTHENTICATED"]);
    expect((await after.request(mutations.me, {}, { token: issuedDuring })).errors).toBeUndefined();
  });
});

describe("changing ACCESS_TOKEN_TTL", () => {
  const servers: TestServer[] = [];
  afterAll(() => Promise.all(servers.map((server) => server.close())));

  async function serverWith(accessTokenTtl: string) {
    const server = await startTestServer({
      databaseUrl: database.url,
      store: "redis",
      signingKeys: toSigningKeys([newKey]),
      config: { ACCESS_TOKEN_TTL: accessTokenTtl },
    });
    servers.push(server);
    return server;
  }
  const lifetimeOf = (token: string) => {
    const { iat, exp } = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    return exp - iat;
  };

  it("refuses tokens issued for longer than the current setting at once; their sessions refresh to shorter ones", async () => {
    const longer = await serverWith("30m");
    const registered = (await longer.request(mutations.register, { input: newAccount() })).data!.register;
    expect(lifetimeOf(registered.accessToken)).toBe(30 * 60);

    const shorter = await serverWith("15m");
    expect(errorCodes(await shorter.request(mutations.me, {}, { token: registered.accessToken }))).toEqual([
      "UNAUTHENTICATED",
    ]);
    const refreshed = (await shorter.request(sessionMutations.refresh, { refreshToken: registered.refreshToken })).data!
      .refreshSession;
    expect(lifetimeOf(refreshed.accessToken)).toBe(15 * 60);
    // A shorter token is within every longer setting: raising the setting refuses nothing.
    for (const server of [shorter, longer])
      expect((await server.request(mutations.me, {}, { token: refreshed.accessToken })).errors).toBeUndefined();
  });
});
