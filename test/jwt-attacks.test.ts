import { createHmac, randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clockToleranceSeconds } from "../src/auth/access-tokens.js";
import { generateSigningKey, type SigningKey } from "../src/auth/signing-keys.js";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

const base64url = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

let database: TestDatabase;
let server: TestServer;
let signing: SigningKey;
let claims: { sub: string; sid: string };
/** The server's default ACCESS_TOKEN_TTL (15m). */
const accessTokenTtlSeconds = 15 * 60;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startTestServer({ databaseUrl: database.url, store: "redis" });
  signing = server.signingKeys.signing;
  const registered = (await server.request(mutations.register, { input: newAccount() })).data!.register;
  const payload = JSON.parse(Buffer.from(registered.accessToken.split(".")[1], "base64url").toString());
  claims = { sub: payload.sub, sid: payload.sid };
});
afterAll(async () => {
  await server.close();
  await database.drop();
});

/** A token as the server would sign it, with the given changes; a time claim given as null is left out. */
async function token(
  changes: {
    iss?: string;
    aud?: string;
    iat?: number | null;
    nbf?: number | null;
    exp?: number | null;
    kid?: string;
    key?: SigningKey;
  } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  const key = changes.key ?? signing;
  const time = (value: number | null | undefined, fallback: number) =>
    value === null ? undefined : (value ?? fallback);
  return new SignJWT({
    sid: claims.sid,
    iat: time(changes.iat, now),
    nbf: time(changes.nbf, now),
    exp: time(changes.exp, now + 600),
  })
    .setProtectedHeader({ alg: key.alg, kid: changes.kid ?? key.kid })
    .setSubject(claims.sub)
    .setJti(randomUUID())
    .setIssuer(changes.iss ?? "users-subgraph")
    .setAudience(changes.aud ?? "supergraph")
    .sign(key.privateKey);
}

async function meWith(accessToken: string) {
  return server.request(mutations.me, {}, { token: accessToken });
}

describe("access tokens the subgraph did not issue, or no longer honours", () => {
  it("accepts a token signed as the server signs (the control case)", async () => {
    const response = await meWith(await token());
    expect(response.errors).toBeUndefined();
    expect(response.data!.me.id).toBe(claims.sub);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const attacks: [string, () => Promise<string>][] = [
    [
      "alg: none",
      async () =>
        `${base64url({ alg: "none", typ: "JWT" })}.${base64url({ ...claims, jti: randomUUID(), iss: "users-subgraph", aud: "supergraph", iat: now(), exp: now() + 600 })}.`,
    ],
    [
      "HS256 signed with the public key as the HMAC secret",
      async () => {
        const header = base64url({ alg: "HS256", typ: "JWT", kid: signing.kid });
        const body = base64url({
          ...claims,
          jti: randomUUID(),
          iss: "users-subgraph",
          aud: "supergraph",
          iat: now(),
          exp: now() + 600,
        });
        const secret = signing.publicKey.export({ format: "pem", type: "spki" });
        const signature = createHmac("sha256", secret).update(`${header}.${body}`).digest("base64url");
        return `${header}.${body}.${signature}`;
      },
    ],
    ["an unknown kid", () => token({ kid: "some-other-key" })],
    [
      "a key the server does not hold, under its kid",
      async () => token({ key: { ...(await generateSigningKey()), kid: signing.kid } }),
    ],
    [
      "a tampered payload",
      async () => {
        const [header, , signature] = (await token()).split(".");
        const forged = base64url({
          ...claims,
          sub: randomUUID(),
          jti: randomUUID(),
          iss: "users-subgraph",
          aud: "supergraph",
          iat: now(),
          exp: now() + 600,
        });
        return `${header}.${forged}.${signature}`;
      },
    ],
    ["the wrong audience", () => token({ aud: "another-service" })],
    ["the wrong issuer", () => token({ iss: "someone-else" })],
    ["an expired token", () => token({ iat: now() - 1200, nbf: now() - 1200, exp: now() - 600 })],
    ["a token not yet valid", () => token({ iat: now(), nbf: now() + 600, exp: now() + 1200 })],
    // Signed with the real key: what a leaked key could mint.
    ["a token issued an hour from now", () => token({ iat: now() + 3600, nbf: now(), exp: now() + 3600 + 600 })],
    [
      "a token issued beyond the clock tolerance",
      () => token({ iat: now() + clockToleranceSeconds + 5, nbf: null, exp: now() + 600 }),
    ],
    ["a token valid only from beyond the clock tolerance", () => token({ nbf: now() + clockToleranceSeconds + 5 })],
    ["a token that expires in 1e308 seconds", () => token({ exp: 1e308 })],
    [
      "a token living one second longer than ACCESS_TOKEN_TTL",
      () => token({ iat: now() - 10, nbf: now() - 10, exp: now() - 10 + accessTokenTtlSeconds + 1 }),
    ],
    ["a token without iat", () => token({ iat: null })],
    ["a token without exp", () => token({ exp: null })],
    ["a truncated signature", async () => (await token()).slice(0, -4)],
  ];

  it.each(attacks)("refuses %s with UNAUTHENTICATED", async (_name, forge) => {
    const response = await meWith(await forge());
    expect(response.data).toEqual({ me: null });
    expect(errorCodes(response)).toEqual(["UNAUTHENTICATED"]);
  });

  const accepted: [string, () => Promise<string>][] = [
    [
      "issued within the clock tolerance ahead (a peer whose clock runs fast)",
      () => token({ iat: now() + clockToleranceSeconds - 5, nbf: now() + clockToleranceSeconds - 5 }),
    ],
    [
      "living exactly ACCESS_TOKEN_TTL",
      () => token({ iat: now() - 10, nbf: now() - 10, exp: now() - 10 + accessTokenTtlSeconds }),
    ],
    ["without nbf", () => token({ nbf: null })],
  ];

  it.each(accepted)("accepts a token %s", async (_name, sign) => {
    const response = await meWith(await sign());
    expect(response.errors).toBeUndefined();
    expect(response.data!.me.id).toBe(claims.sub);
  });
});
