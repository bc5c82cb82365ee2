import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { describe, expect, it } from "vitest";
import { signUp, logIn } from "./helpers/accounts.js";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, mutations, sessionMutations } from "../harness/graphql.js";
import type { TemporaryFileTransport } from "./helpers/mail.js";
import {
  beginLogin,
  beginRegistration,
  ok,
  passkeyDocuments,
  passkeySettings,
  registerPasskey,
  signInWithPasskey,
  TestAuthenticator,
} from "./helpers/passkeys.js";
import { outboxSettled } from "./helpers/outbox.js";
import { useTestServer } from "./helpers/test-server.js";
import { hasSignInMethodOtherThan, type SignInMethod } from "../src/users/sign-in-methods.js";

const clock = new ManualClock();
const server = useTestServer({ clock, config: { ...passkeySettings, TOTP_ISSUER: "Example App" } });

/** The mails sent to `email`, once the outbox has delivered what was queued (side by side: in no set order). */
async function mailsTo(email: string) {
  await outboxSettled(server());
  const messages = await (server().mailTransport as TemporaryFileTransport).messages();
  return messages.filter((mail) => mail.to.includes(email));
}

describe("registering a passkey", () => {
  it("offers options for a discoverable credential of this RP, naming the account by a random handle, never its e-mail", async () => {
    const user = await signUp(server(), "options");
    const first = await beginRegistration(server(), user.accessToken);
    expect(first.challengeId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Date(first.expiresAt).getTime()).toBe(clock.now().getTime() + 300_000);
    expect(first.options).toMatchObject({
      rp: { id: "localhost", name: "Example App" },
      user: { name: user.account.username, displayName: user.account.username },
      attestation: "none",
      authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "preferred" },
      excludeCredentials: [],
    });
    expect(JSON.stringify(first.options)).not.toContain(user.account.email);
    const handle = Buffer.from(first.options.user.id, "base64url");
    expect(handle).toHaveLength(32);
    // The same handle every time for one account, another for the next account.
    expect((await beginRegistration(server(), user.accessToken)).options.user.id).toBe(first.options.user.id);
    const other = await signUp(server(), "options");
    expect((await beginRegistration(server(), other.accessToken)).options.user.id).not.toBe(first.options.user.id);
  });

  it("stores two passkeys of one account with what the authenticator said, excludes them next time, and tells the owner", async () => {
    const user = await signUp(server(), "two");
    const [laptop, phone] = [new TestAuthenticator(), new TestAuthenticator()];
    const first = await registerPasskey(server(), user.accessToken, laptop, "  Laptop  ");
    const second = await registerPasskey(server(), user.accessToken, phone);
    expect(first).toMatchObject({
      name: "Laptop",
      lastUsedAt: null,
      backedUp: true,
      deviceType: "multiDevice",
      transports: ["usb"],
    });
    expect(second).toMatchObject({ name: "Passkey" });

    const rows = await server().database.passkey.findMany({
      where: { userId: user.id },
      orderBy: { createdAt: "asc" },
    });
    expect(rows.map((row) => row.id).sort()).toEqual([first.id, second.id].sort());
    for (const row of rows) {
      expect(row.publicKey.length).toBeGreaterThan(0);
      expect(row.signCount).toBe(0n);
      expect(row.aaguid).toMatch(/^[0-9a-f-]{36}$/);
    }
    const next = await beginRegistration(server(), user.accessToken);
    expect(next.options.excludeCredentials?.map((credential) => credential.id).sort()).toEqual(
      rows.map((row) => row.credentialId).sort(),
    );

    const events = await server().database.securityEvent.findMany({
      where: { userId: user.id, kind: "passkey_added" },
      orderBy: { id: "asc" },
    });
    expect(events.map((event) => event.details)).toEqual([
      { passkeyId: first.id, name: "Laptop" },
      { passkeyId: second.id, name: "Passkey" },
    ]);
    const mails = await mailsTo(user.account.email);
    const added = mails.filter((mail) => mail.subject === "A passkey was added to your account");
    const named = added.map((mail) => /The passkey "([^"]*)" was just added/.exec(mail.text)?.[1]);
    expect(named.sort()).toEqual(["Laptop", "Passkey"]);
    // The account has a password: the notice says to change it if the passkey was not the owner's.
    for (const mail of added) {
      expect(mail.text).toContain("remove it from your account's passkeys and change your password right away.");
    }
  });

  it("asks for the password once the session's sign-in is older than the window; a refresh does not renew it", async () => {
    const user = await signUp(server(), "reauth");
    clock.advance(5 * 60 + 1);
    const refreshed = ok(
      await server().request(sessionMutations.refresh, { refreshToken: user.refreshToken }),
    ).refreshSession;
    const stale = await server().request(passkeyDocuments.beginRegistration, {}, { token: refreshed.accessToken });
    expect(errorCodes(stale)).toEqual(["REAUTHENTICATION_REQUIRED"]);
    expect(stale.errors![0]!.extensions).toMatchObject({ field: "currentPassword" });
    const wrong = await server().request(
      passkeyDocuments.beginRegistration,
      { currentPassword: "not the password" },
      { token: refreshed.accessToken },
    );
    expect(errorCodes(wrong)).toEqual(["INVALID_CREDENTIALS"]);
    await beginRegistration(server(), refreshed.accessToken, user.account.password);
    // A new sign-in is recent again.
    const login = ok(await logIn(server(), user.account)).login;
    await beginRegistration(server(), login.accessToken);
    expect(errorCodes(await server().request(passkeyDocuments.beginRegistration, {}))).toEqual(["UNAUTHENTICATED"]);
  });

  it("refuses a name it cannot show, keeping the challenge for a corrected one", async () => {
    const user = await signUp(server(), "named");
    const { challengeId, options } = await beginRegistration(server(), user.accessToken);
    const response = new TestAuthenticator().create(options);
    for (const name of ["", "   ", "x".repeat(65), "tab\there"]) {
      const refused = await server().request(
        passkeyDocuments.finishRegistration,
        { challengeId, response, name },
        { token: user.accessToken },
      );
      expect(errorCodes(refused), name).toEqual(["BAD_USER_INPUT"]);
      expect(refused.errors![0]!.extensions).toMatchObject({ field: "name" });
    }
    const added = ok(
      await server().request(
        passkeyDocuments.finishRegistration,
        { challengeId, response, name: "Ｋｅｙ" },
        { token: user.accessToken },
      ),
    );
    expect(added.finishPasskeyRegistration.name).toBe("Key");
  });
});

describe("signing in with a passkey", () => {
  const loginEvents = (userId: string) =>
    server().database.securityEvent.findMany({
      where: { userId, kind: { in: ["login_succeeded", "login_failed"] } },
      orderBy: { id: "asc" },
      select: { kind: true, details: true },
    });

  it("signs in with each of two passkeys, by name and discoverable; the tokens work for me, refresh and logout", async () => {
    const user = await signUp(server(), "signin");
    const [laptop, phone] = [new TestAuthenticator(), new TestAuthenticator()];
    const [onLaptop, onPhone] = [
      await registerPasskey(server(), user.accessToken, laptop),
      await registerPasskey(server(), user.accessToken, phone),
    ];
    const ways = [
      { authenticator: laptop, input: { usernameOrEmail: user.account.username.toUpperCase() } },
      { authenticator: phone, input: { usernameOrEmail: ` ${user.account.email} ` } },
      { authenticator: laptop, input: {} },
      { authenticator: phone, input: {} },
    ];
    for (const { authenticator, input } of ways) {
      const signedIn = ok(await signInWithPasskey(server(), authenticator, input)).finishPasskeyLogin;
      expect(signedIn.user).toEqual({ id: user.id, username: user.account.username, email: user.account.email });
      expect(ok(await server().request(mutations.me, {}, { token: signedIn.accessToken })).me.id).toBe(user.id);
      const refreshed = ok(
        await server().request(sessionMutations.refresh, { refreshToken: signedIn.refreshToken }),
      ).refreshSession;
      expect(ok(await server().request(sessionMutations.logout, {}, { token: refreshed.accessToken })).logout).toBe(
        true,
      );
      expect(errorCodes(await server().request(mutations.me, {}, { token: refreshed.accessToken }))).toEqual([
        "UNAUTHENTICATED",
      ]);
    }
    // Each sign-in moved its passkey's counter on and recorded when it was used, and how the account signed in.
    const rows = await server().database.passkey.findMany({ where: { userId: user.id } });
    expect(Object.fromEntries(rows.map((row) => [row.id, row.signCount]))).toEqual({
      [onLaptop.id]: 2n,
      [onPhone.id]: 2n,
    });
    for (const row of rows) expect(row.lastUsedAt).toEqual(clock.now());
    expect(await loginEvents(user.id)).toEqual(
      Array.from({ length: 4 }, () => ({ kind: "login_succeeded", details: { method: "passkey" } })),
    );
  });

  it("answers a name no account has, or an account without passkeys, with options that look like a real account's", async () => {
    const withPasskey = await signUp(server(), "known");
    await registerPasskey(server(), withPasskey.accessToken, new TestAuthenticator());
    const without = await signUp(server(), "bare");
    const shape = (options: PublicKeyCredentialRequestOptionsJSON) => ({
      keys: Object.keys(options).sort(),
      credentials: options.allowCredentials?.map((credential) => ({
        keys: Object.keys(credential).sort(),
        idLength: credential.id.length,
      })),
      rest: { rpId: options.rpId, userVerification: options.userVerification, timeout: options.timeout },
    });
    const known = shape((await beginLogin(server(), { usernameOrEmail: withPasskey.account.username })).options);
    expect(known.credentials).toHaveLength(1);
    for (const name of [without.account.username, without.account.email, "nobody-at-all", "nobody@example.com"]) {
      const first = (await beginLogin(server(), { usernameOrEmail: name })).options;
      expect(shape(first), name).toEqual(known);
      // The same made-up credential every time, so that asking twice tells nothing either.
      expect((await beginLogin(server(), { usernameOrEmail: name })).options.allowCredentials).toEqual(
        first.allowCredentials,
      );
    }
    // An account without passkeys shows one made-up credential, whichever of its names is typed.
    const [byName, byEmail] = await Promise.all(
      [without.account.username, without.account.email].map((name) => beginLogin(server(), { usernameOrEmail: name })),
    );
    expect(byName!.options.allowCredentials).toEqual(byEmail!.options.allowCredentials);
    const unknown = (await beginLogin(server(), { usernameOrEmail: "nobody-else" })).options.allowCredentials;
    expect(unknown).not.toEqual(
      (await beginLogin(server(), { usernameOrEmail: "nobody-at-all" })).options.allowCredentials,
    );
  });

  it("asks for a name or an mfaToken, not both, and refuses an empty or oversized name", async () => {
    const both = await server().request(passkeyDocuments.beginLogin, { usernameOrEmail: "someone", mfaToken: "x" });
    expect(errorCodes(both)).toEqual(["BAD_USER_INPUT"]);
    for (const name of ["", "   ", "x".repeat(321)]) {
      const refused = await server().request(passkeyDocuments.beginLogin, { usernameOrEmail: name });
      expect(errorCodes(refused)).toEqual(["BAD_USER_INPUT"]);
      expect(refused.errors![0]!.extensions).toMatchObject({ field: "usernameOrEmail" });
    }
  });
});

describe("managing passkeys", () => {
  const listOf = async (token: string) =>
    ok(await server().request(passkeyDocuments.list, {}, { token })).me.passkeys as { id: string; name: string }[];

  it("lists them to their owner only, renames and removes one, tells the owner, and the removed one no longer signs in", async () => {
    const user = await signUp(server(), "manage");
    const other = await signUp(server(), "nosy");
    const [keep, drop] = [new TestAuthenticator(), new TestAuthenticator()];
    const kept = await registerPasskey(server(), user.accessToken, keep, "Keep");
    const dropped = await registerPasskey(server(), user.accessToken, drop, "Drop");
    expect((await listOf(user.accessToken)).map((passkey) => passkey.name).sort()).toEqual(["Drop", "Keep"]);

    const peek = await server().request(
      `query($id: ID!) { user(id: $id) { id passkeys { id } } }`,
      { id: user.id },
      { token: other.accessToken },
    );
    expect(errorCodes(peek)).toEqual(["FORBIDDEN"]);
    expect(peek.data!.user).toEqual({ id: user.id, passkeys: null });

    const renamed = ok(
      await server().request(
        passkeyDocuments.rename,
        { id: kept.id, name: " Work laptop " },
        { token: user.accessToken },
      ),
    ).renamePasskey;
    expect(renamed).toEqual({ id: kept.id, name: "Work laptop" });
    for (const [id, name, field] of [
      [kept.id, "", "name"],
      [kept.id, "x".repeat(65), "name"],
      // Another id in the same form (its last digit changed, never to itself).
      [kept.id.toUpperCase().replace(/.$/, (last) => (last === "0" ? "1" : "0")), "Mine now", "id"],
      ["not-an-id", "Mine now", "id"],
    ] as const) {
      const refused = await server().request(passkeyDocuments.rename, { id, name }, { token: user.accessToken });
      expect(errorCodes(refused)).toEqual(["BAD_USER_INPUT"]);
      expect(refused.errors![0]!.extensions).toMatchObject({ field });
    }
    // Another account cannot rename or remove it: to them it does not exist.
    expect(
      errorCodes(
        await server().request(
          passkeyDocuments.rename,
          { id: kept.id, name: "Mine now" },
          { token: other.accessToken },
        ),
      ),
    ).toEqual(["BAD_USER_INPUT"]);
    expect(
      ok(await server().request(passkeyDocuments.remove, { id: dropped.id }, { token: other.accessToken }))
        .removePasskey,
    ).toBe(false);
    expect(
      ok(await server().request(passkeyDocuments.remove, { id: "not-an-id" }, { token: user.accessToken }))
        .removePasskey,
    ).toBe(false);
    expect(errorCodes(await server().request(passkeyDocuments.remove, { id: dropped.id }))).toEqual([
      "UNAUTHENTICATED",
    ]);

    expect(
      ok(await server().request(passkeyDocuments.remove, { id: dropped.id }, { token: user.accessToken }))
        .removePasskey,
    ).toBe(true);
    expect(
      ok(await server().request(passkeyDocuments.remove, { id: dropped.id }, { token: user.accessToken }))
        .removePasskey,
    ).toBe(false);
    expect(await listOf(user.accessToken)).toEqual([expect.objectContaining({ id: kept.id, name: "Work laptop" })]);
    const removedEvents = await server().database.securityEvent.findMany({
      where: { userId: user.id, kind: "passkey_removed" },
      select: { details: true, actorId: true },
    });
    expect(removedEvents).toEqual([{ details: { passkeyId: dropped.id, name: "Drop" }, actorId: user.id }]);
    const notices = (await mailsTo(user.account.email)).filter(
      (mail) => mail.subject === "A passkey was removed from your account",
    );
    expect(notices.map((mail) => mail.text)).toEqual([expect.stringContaining('"Drop"')]);

    // The browser would no longer offer it by name; answered anyway, or discoverable, it is refused.
    const named = await beginLogin(server(), { usernameOrEmail: user.account.username });
    expect(named.options.allowCredentials).toHaveLength(1);
    const forced = drop.get({ ...named.options, allowCredentials: undefined });
    expect(
      errorCodes(
        await server().request(passkeyDocuments.finishLogin, { challengeId: named.challengeId, response: forced }),
      ),
    ).toEqual(["INVALID_PASSKEY"]);
    expect(errorCodes(await signInWithPasskey(server(), drop))).toEqual(["INVALID_PASSKEY"]);
    expect(ok(await signInWithPasskey(server(), keep)).finishPasskeyLogin.user.id).toBe(user.id);
  });

  it("removes every passkey at once when they race, the password being left to sign in with", async () => {
    for (let trial = 0; trial < 5; trial++) {
      const user = await signUp(server(), "race");
      const ids = [];
      for (let index = 0; index < 3; index++)
        ids.push((await registerPasskey(server(), user.accessToken, new TestAuthenticator())).id);
      const removals = await Promise.all(
        [...ids, ...ids].map((id) => server().request(passkeyDocuments.remove, { id }, { token: user.accessToken })),
      );
      expect(removals.filter((removal) => ok(removal).removePasskey === true)).toHaveLength(3);
      expect(await server().database.passkey.count({ where: { userId: user.id } })).toBe(0);
      expect(await server().database.securityEvent.count({ where: { userId: user.id, kind: "passkey_removed" } })).toBe(
        3,
      );
    }
  });

  it("deletes every passkey with the account", async () => {
    const user = await signUp(server(), "leaving");
    const key = new TestAuthenticator();
    await registerPasskey(server(), user.accessToken, key);
    await registerPasskey(server(), user.accessToken, new TestAuthenticator());
    ok(
      await server().request(
        `mutation($p: String!) { deleteAccount(currentPassword: $p) }`,
        { p: user.account.password },
        { token: user.accessToken },
      ),
    );
    expect(await server().database.passkey.count({ where: { userId: user.id } })).toBe(0);
    expect(errorCodes(await signInWithPasskey(server(), key))).toEqual(["INVALID_PASSKEY"]);
  });

  it("counts every other way to sign in before one goes: the last one cannot (LAST_SIGN_IN_METHOD)", async () => {
    const user = await signUp(server(), "methods");
    const othersThan = (removed: SignInMethod) =>
      server().database.$transaction((tx) => hasSignInMethodOtherThan(tx, user.id, removed));
    // Only a password: it is the last way.
    expect(await othersThan({ kind: "password" })).toBe(false);
    const passkey = await registerPasskey(server(), user.accessToken, new TestAuthenticator());
    expect(await othersThan({ kind: "password" })).toBe(true);
    expect(await othersThan({ kind: "passkey", id: passkey.id })).toBe(true);
    // Without the password (as an account made by an identity provider), the one passkey is the last way; a second one is not.
    const withoutPassword = (removed: SignInMethod) =>
      server()
        .database.$transaction(async (tx) => {
          await tx.$executeRaw`UPDATE users SET password_hash = NULL WHERE id = ${user.id}::uuid`;
          const others = await hasSignInMethodOtherThan(tx, user.id, removed);
          // Undone with the transaction.
          throw Object.assign(new Error("rolled back"), { others });
        })
        .catch((error: { others: boolean }) => error.others);
    expect(await withoutPassword({ kind: "passkey", id: passkey.id })).toBe(false);
    const second = await registerPasskey(server(), user.accessToken, new TestAuthenticator());
    expect(await withoutPassword({ kind: "passkey", id: passkey.id })).toBe(true);
    expect(await withoutPassword({ kind: "passkey", id: second.id })).toBe(true);
    expect((await server().database.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash).toMatch(
      /^\$argon2id\$/,
    );
  });
});

describe("the number of passkeys", () => {
  it("stops at 20 per account, whether the next is begun or finished past it", async () => {
    const user = await signUp(server(), "many");
    const pending = await beginRegistration(server(), user.accessToken);
    for (let index = 0; index < 20; index++) await registerPasskey(server(), user.accessToken, new TestAuthenticator());
    expect(
      errorCodes(await server().request(passkeyDocuments.beginRegistration, {}, { token: user.accessToken })),
    ).toEqual(["FORBIDDEN"]);
    const late = await server().request(
      passkeyDocuments.finishRegistration,
      { challengeId: pending.challengeId, response: new TestAuthenticator().create(pending.options) },
      { token: user.accessToken },
    );
    expect(errorCodes(late)).toEqual(["FORBIDDEN"]);
    expect(await server().database.passkey.count({ where: { userId: user.id } })).toBe(20);
  });
});
