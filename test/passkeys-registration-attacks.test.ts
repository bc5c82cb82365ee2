import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { beforeAll, describe, expect, it } from "vitest";
import { signUp, type SignedUp } from "./helpers/accounts.js";
import { errorCodes } from "../harness/graphql.js";
import { expectRefused, flipped, useForgeryServer, withClientData } from "./helpers/passkey-forgery.js";
import {
  appOrigin,
  beginLogin,
  beginRegistration,
  ok,
  passkeyDocuments,
  TestAuthenticator,
  type RegistrationResponse,
} from "./helpers/passkeys.js";

// Every forgery, replay and misuse a registration answer can carry: each refused with its code,
// and nothing stored (no passkey, no event) — read from the database itself.
const { clock, server, holdings } = useForgeryServer();
const trials = 5;

// `response`: any JSON object, however forged.
const finishRegistration = (user: SignedUp, challengeId: string, response: object) =>
  server().request(passkeyDocuments.finishRegistration, { challengeId, response }, { token: user.accessToken });

describe("forged or misused registrations", () => {
  let user: SignedUp;
  let other: SignedUp;
  beforeAll(async () => {
    [user, other] = [await signUp(server(), "attacked"), await signUp(server(), "attacker")];
  });

  /** Begins a registration for `owner`, lets `forge` alter the authenticator's answer, and expects `code` with nothing stored. */
  async function refusedRegistration(
    code: string,
    forge: (
      options: PublicKeyCredentialCreationOptionsJSON,
      authenticator: TestAuthenticator,
    ) => { challengeId?: string; response: object; as?: SignedUp },
  ) {
    const before = [await holdings(user.id), await holdings(other.id)];
    const { challengeId, options } = await beginRegistration(server(), user.accessToken);
    const forged = forge(options, new TestAuthenticator());
    expectRefused(
      await finishRegistration(forged.as ?? user, forged.challengeId ?? challengeId, forged.response),
      code,
    );
    expect([await holdings(user.id), await holdings(other.id)]).toEqual(before);
  }

  it("refuses a replayed challenge, and an expired one", async () => {
    for (let trial = 0; trial < trials; trial++) {
      const { challengeId, options } = await beginRegistration(server(), user.accessToken);
      const response = new TestAuthenticator().create(options);
      ok(await finishRegistration(user, challengeId, response));
      const before = await holdings(user.id);
      expectRefused(await finishRegistration(user, challengeId, response), "INVALID_CHALLENGE");
      expectRefused(
        await finishRegistration(user, challengeId, new TestAuthenticator().create(options)),
        "INVALID_CHALLENGE",
      );
      expect(await holdings(user.id)).toEqual(before);
    }
    await refusedRegistration("INVALID_CHALLENGE", (options, authenticator) => {
      clock.advance(5 * 60 + 1);
      return { response: authenticator.create(options) };
    });
  });

  it("refuses another account's challenge, a sign-in challenge, and ids that name no challenge", async () => {
    for (let trial = 0; trial < trials; trial++) {
      await refusedRegistration("INVALID_CHALLENGE", (options, authenticator) => ({
        response: authenticator.create(options),
        as: other,
      }));
    }
    const signIn = await beginLogin(server(), {});
    await refusedRegistration("INVALID_CHALLENGE", (options, authenticator) => ({
      challengeId: signIn.challengeId,
      response: authenticator.create(options),
    }));
    for (const challengeId of ["", "x", "A".repeat(43), "%2e%2e%2fetc", "*", "A".repeat(10_000)]) {
      await refusedRegistration("INVALID_CHALLENGE", (options, authenticator) => ({
        challengeId,
        response: authenticator.create(options),
      }));
    }
  });

  it("refuses an answer made on another origin, for another RP ID, or with tampered client data", async () => {
    for (let trial = 0; trial < trials; trial++) {
      await refusedRegistration("INVALID_PASSKEY", (options, authenticator) => ({
        response: authenticator.create(options, `http://localhost:${6000 + trial}`),
      }));
      await refusedRegistration("INVALID_PASSKEY", (options, authenticator) => ({
        response: authenticator.create({ ...options, rp: { ...options.rp, id: "evil.localhost" } }, appOrigin, [
          appOrigin,
        ]),
      }));
      await refusedRegistration("INVALID_PASSKEY", (options, authenticator) => ({
        response: withClientData(
          authenticator.create(options),
          (clientData) => (clientData.challenge = Buffer.from(`forged ${trial}`).toString("base64url")),
        ),
      }));
      await refusedRegistration("INVALID_PASSKEY", (options, authenticator) => ({
        response: withClientData(authenticator.create(options), (clientData) => (clientData.type = "webauthn.get")),
      }));
      await refusedRegistration("INVALID_PASSKEY", (options, authenticator) => {
        const response = authenticator.create(options);
        return {
          response: {
            ...response,
            response: {
              ...response.response,
              attestationObject: flipped(response.response.attestationObject, 40 + trial),
            },
          },
        };
      });
    }
  });

  it("refuses an attestation for a credential id already registered, to this account or another", async () => {
    const authenticator = new TestAuthenticator();
    const { challengeId, options } = await beginRegistration(server(), user.accessToken);
    const original = authenticator.create(options);
    ok(await finishRegistration(user, challengeId, original));
    for (let trial = 0; trial < trials; trial++) {
      for (const owner of [user, other]) {
        // With "none" attestation nothing signs the client data: the same credential, re-sent under a fresh challenge, verifies.
        const before = [await holdings(user.id), await holdings(other.id)];
        const fresh = await beginRegistration(server(), owner.accessToken);
        const replayed = withClientData(original, (clientData) => (clientData.challenge = fresh.options.challenge));
        expectRefused(await finishRegistration(owner, fresh.challengeId, replayed), "INVALID_PASSKEY");
        expect([await holdings(user.id), await holdings(other.id)]).toEqual(before);
      }
    }
    // Concurrent registrations of one credential: one stored at most (here: none, it is taken).
    const races = await Promise.all(
      [user, other, user, other].map(async (owner) => {
        const fresh = await beginRegistration(server(), owner.accessToken);
        return finishRegistration(
          owner,
          fresh.challengeId,
          withClientData(original, (clientData) => (clientData.challenge = fresh.options.challenge)),
        );
      }),
    );
    for (const race of races) expectRefused(race, "INVALID_PASSKEY");
    expect(await server().database.passkey.count({ where: { credentialId: original.id } })).toBe(1);
  });

  it("answers malformed answers with INVALID_PASSKEY, storing nothing", async () => {
    const malformed: ((response: RegistrationResponse) => object)[] = [
      () => ({}),
      (response) => ({ ...response, type: "password" }),
      (response) => ({ ...response, id: "not base64url!" }),
      (response) => ({ ...response, rawId: "A".repeat(2_000) }),
      (response) => ({ ...response, response: { ...response.response, attestationObject: 42 } }),
      (response) => ({ ...response, response: { ...response.response, clientDataJSON: "" } }),
      (response) => ({ ...response, response: { ...response.response, attestationObject: "A".repeat(70_000) } }),
      (response) => ({ ...response, response: null }),
    ];
    for (const forge of malformed) {
      await refusedRegistration("INVALID_PASSKEY", (options, authenticator) => ({
        response: forge(authenticator.create(options)),
      }));
    }
  });

  it("lets one of concurrent finishes of one challenge store its passkey", async () => {
    for (let trial = 0; trial < trials; trial++) {
      const { challengeId, options } = await beginRegistration(server(), user.accessToken);
      const before = (await holdings(user.id)).passkeys.length;
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => finishRegistration(user, challengeId, new TestAuthenticator().create(options))),
      );
      expect(answers.filter((answer) => !answer.errors)).toHaveLength(1);
      for (const answer of answers.filter((answer) => answer.errors))
        expect(errorCodes(answer)).toEqual(["INVALID_CHALLENGE"]);
      expect((await holdings(user.id)).passkeys.length).toBe(before + 1);
    }
  });
});
