import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AccessTokens, clockToleranceSeconds, InvalidAccessTokenError } from "../src/auth/access-tokens.js";
import { generateSigningKey, toSigningKeys } from "../src/auth/signing-keys.js";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

describe("access tokens verified before", () => {
  const settings = { issuer: "users-subgraph", audience: "supergraph", ttlSeconds: 60 };

  it("are accepted again until they expire, not a second longer", async () => {
    const clock = new ManualClock(new Date("2026-01-01T00:00:00.500Z"));
    const tokens = new AccessTokens(toSigningKeys([await generateSigningKey()]), settings, clock);
    const sessionId = randomUUID();
    const { token } = await tokens.issue(randomUUID(), sessionId, ["user"]);
    expect((await tokens.verify(token)).sessionId).toBe(sessionId);
    clock.advance(59);
    expect((await tokens.verify(token)).sessionId).toBe(sessionId);
    clock.advance(1);
    await expect(tokens.verify(token)).rejects.toBeInstanceOf(InvalidAccessTokenError);
  });

  it("are refused from their exp second on by a verifier that never saw them, whatever the clock tolerance", async () => {
    const keys = toSigningKeys([await generateSigningKey()]);
    const clock = new ManualClock(new Date("2026-01-01T00:00:00.500Z"));
    const { token } = await new AccessTokens(keys, settings, clock).issue(randomUUID(), randomUUID(), ["user"]);
    clock.advance(59);
    expect((await new AccessTokens(keys, settings, clock).verify(token)).expiresAt).toEqual(
      new Date("2026-01-01T00:01:00Z"),
    );
    clock.advance(1);
    await expect(new AccessTokens(keys, settings, clock).verify(token)).rejects.toBeInstanceOf(InvalidAccessTokenError);
  });

  it("from an instance whose clock runs ahead are accepted within the clock tolerance, refused beyond it", async () => {
    const keys = toSigningKeys([await generateSigningKey()]);
    const start = new Date("2026-01-01T00:00:00Z");
    const verifier = new AccessTokens(keys, settings, new ManualClock(start));
    const issuedAhead = async (seconds: number) => {
      const clock = new ManualClock(start);
      clock.advance(seconds);
      return (await new AccessTokens(keys, settings, clock).issue(randomUUID(), randomUUID(), ["user"])).token;
    };
    await expect(verifier.verify(await issuedAhead(clockToleranceSeconds))).resolves.toBeDefined();
    await expect(verifier.verify(await issuedAhead(clockToleranceSeconds + 1))).rejects.toBeInstanceOf(
      InvalidAccessTokenError,
    );
  });

  it("issued under a longer ttl are refused, under a shorter one accepted", async () => {
    const keys = toSigningKeys([await generateSigningKey()]);
    const clock = new ManualClock();
    const issue = async (ttlSeconds: number) =>
      (await new AccessTokens(keys, { ...settings, ttlSeconds }, clock).issue(randomUUID(), randomUUID(), ["user"]))
        .token;
    const verifier = new AccessTokens(keys, settings, clock);
    await expect(verifier.verify(await issue(settings.ttlSeconds + 1))).rejects.toBeInstanceOf(InvalidAccessTokenError);
    await expect(verifier.verify(await issue(settings.ttlSeconds))).resolves.toBeDefined();
    await expect(verifier.verify(await issue(1))).resolves.toBeDefined();
  });

  it("do not vouch for the same claims under another signature", async () => {
    const tokens = new AccessTokens(toSigningKeys([await generateSigningKey()]), settings, new ManualClock());
    const { token } = await tokens.issue(randomUUID(), randomUUID(), ["user"]);
    await tokens.verify(token);
    const [header, payload] = token.split(".");
    const { token: other } = await tokens.issue(randomUUID(), randomUUID(), ["user"]);
    await expect(tokens.verify(`${header}.${payload}.${other.split(".")[2]}`)).rejects.toBeInstanceOf(
      InvalidAccessTokenError,
    );
  });
});

describe.each(["memory", "redis"] as const)("revocation with the %s store", (store) => {
  const testServer = useTestServer({ store });

  it("ends a session on the very next request, though its token was verified before", async () => {
    const server = testServer();
    const { accessToken } = (await server.request(mutations.register, { input: newAccount() })).data!.register;
    expect((await server.request(mutations.me, {}, { token: accessToken })).errors).toBeUndefined();
    expect((await server.request("mutation { logout }", {}, { token: accessToken })).data!.logout).toBe(true);
    expect(errorCodes(await server.request(mutations.me, {}, { token: accessToken }))).toEqual(["UNAUTHENTICATED"]);
  });
});
