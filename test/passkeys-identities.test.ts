import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { signUp } from "./helpers/accounts.js";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, type GraphQLResponse } from "../harness/graphql.js";
import { identityDocuments, socialLoginClient } from "./helpers/identity-providers.js";
import { mailedLinkToken, type TemporaryFileTransport } from "./helpers/mail.js";
import { mfaClient } from "./helpers/mfa.js";
import { outboxSettled } from "./helpers/outbox.js";
import { TestOpenIdProvider } from "./helpers/openid-provider.js";
import {
  beginLogin,
  beginRegistration,
  passkeyDocuments,
  passkeySettings,
  registerPasskey,
  signInWithPasskey,
  TestAuthenticator,
} from "./helpers/passkeys.js";
import { useTestServer } from "./helpers/test-server.js";

// Passkeys and identity providers on one account: the ways to sign in counted together, every way
// in of whoever made an account with someone else's address gone at the owner's reset, and what
// every sign-in shares (the session cap, the second factor, the account's deletion).
const redirectUri = "https://app.example.com/auth/callback";
let idp: TestOpenIdProvider;
beforeAll(async () => {
  idp = await TestOpenIdProvider.start({ redirectUris: [redirectUri] });
});
afterAll(() => idp?.close());

const clock = new ManualClock();
const server = useTestServer({
  store: "redis",
  clock,
  config: {
    ...passkeySettings,
    APP_URL: "https://app.example.com",
    MAX_SESSIONS_PER_ACCOUNT: "3",
    get IDENTITY_PROVIDERS() {
      return JSON.stringify([idp.setting("company")]);
    },
  },
});
const app = socialLoginClient(server, redirectUri);

const newEmail = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}@example.com`;
const person = (email: string, emailVerified: boolean) => idp.addAccount({ email, emailVerified });
const signInAs = (login: string, token?: string) => app.signIn("company", (url) => idp.signIn(url, login), token);

function completed(response: GraphQLResponse) {
  expect(errorCodes(response)).toEqual([]);
  return response.data!.completeSocialLogin;
}

/** A new account made by a first sign-in with the provider (no password), and its person there. */
async function providerAccount(emailVerified = true) {
  const login = person(newEmail("made"), emailVerified);
  return { login, ...completed(await signInAs(login)) };
}

const mailedLink = (address: string, page: string) =>
  mailedLinkToken(server().mailTransport as TemporaryFileTransport, address, page);

/** The mailbox's holder resets the account's password with the mailed link. */
async function resetPassword(email: string): Promise<void> {
  await server().request(lifecycle.requestPasswordReset, { email });
  const reset = await server().request(lifecycle.resetPassword, {
    token: await mailedLink(email, "reset-password"),
    newPassword: "the owner's own password",
  });
  expect(reset.data).toEqual({ resetPassword: true });
}

/** `removePasskey`'s or `unlinkIdentity`'s answer: its Boolean, or its error codes. */
const outcome = (response: GraphQLResponse) => errorCodes(response).join() || String(Object.values(response.data!)[0]);

describe("the ways to sign in", () => {
  it("lets an account without a password add a passkey after signing in, and never lose its last way in", async () => {
    const made = await providerAccount();
    const token = made.accessToken;
    // No password to give; the sign-in just made is recent enough.
    const withPassword = await server().request(
      passkeyDocuments.beginRegistration,
      { currentPassword: "any password" },
      { token },
    );
    expect(errorCodes(withPassword)).toEqual(["PASSWORD_NOT_SET"]);
    const key = new TestAuthenticator();
    const passkey = await registerPasskey(server(), token, key);
    // The identity can go while the passkey signs in; then the passkey is the last way in.
    expect(
      outcome(await server().request(identityDocuments.unlink, { id: made.user.identities[0].id }, { token })),
    ).toBe("true");
    expect(outcome(await server().request(passkeyDocuments.remove, { id: passkey.id }, { token }))).toBe(
      "LAST_SIGN_IN_METHOD",
    );
    const signedIn = await signInWithPasskey(server(), key);
    expect(signedIn.data?.finishPasskeyLogin.user.id, JSON.stringify(signedIn.errors)).toBe(made.user.id);
    // Linked again, the identity lets the passkey go, and is the last way in in turn.
    const relinked = completed(await signInAs(made.login, signedIn.data!.finishPasskeyLogin.accessToken));
    expect(
      outcome(await server().request(passkeyDocuments.remove, { id: passkey.id }, { token: relinked.accessToken })),
    ).toBe("true");
    const identityId = relinked.user.identities[0].id;
    expect(
      outcome(await server().request(identityDocuments.unlink, { id: identityId }, { token: relinked.accessToken })),
    ).toBe("LAST_SIGN_IN_METHOD");
    expect(completed(await signInAs(made.login)).user.id).toBe(made.user.id);
  });

  it("tells the owner of an account without a password to set one, never to change it, when a way in comes or goes", async () => {
    const made = await providerAccount();
    const token = made.accessToken;
    const unlink = async () => {
      const { identities } = (await server().request(identityDocuments.me, {}, { token })).data!.me;
      expect(outcome(await server().request(identityDocuments.unlink, { id: identities[0].id }, { token }))).toBe(
        "true",
      );
    };
    const first = await registerPasskey(server(), token, new TestAuthenticator());
    expect(outcome(await server().request(passkeyDocuments.remove, { id: first.id }, { token }))).toBe("true");
    await registerPasskey(server(), token, new TestAuthenticator());
    await unlink();
    // Linked again automatically (both sides vouch for the address), then by the owner.
    expect(completed(await signInAs(made.login)).user.id).toBe(made.user.id);
    await unlink();
    expect(completed(await signInAs(made.login, token)).user.id).toBe(made.user.id);
    // Mail goes out after its change, in no set order.
    await outboxSettled(server());
    const transport = server().mailTransport as TemporaryFileTransport;
    const notices = (await transport.messages()).filter((mail) => mail.to.includes(made.user.email));
    const linked = "Signing in with Test IdP is now linked to your account";
    const unlinked = "Signing in with Test IdP was unlinked from your account";
    const added = "A passkey was added to your account";
    const removed = "A passkey was removed from your account";
    expect(notices.map((notice) => notice.subject).sort()).toEqual(
      [added, removed, added, unlinked, linked, unlinked, linked].sort(),
    );
    for (const notice of notices) expect(`${notice.text}${notice.html}`).not.toMatch(/change your password/i);
    for (const notice of notices.filter((notice) => notice.subject !== unlinked))
      expect(notice.text).toContain("set a password with a password reset link right away.");
  });

  it("leaves one of an account's last passkey and last identity to their concurrent removals", async () => {
    const trials = 20;
    for (let trial = 0; trial < trials; trial++) {
      const made = await providerAccount();
      const passkey = await registerPasskey(server(), made.accessToken, new TestAuthenticator());
      const token = made.accessToken;
      const removals = [
        server().request(passkeyDocuments.remove, { id: passkey.id }, { token }),
        server().request(identityDocuments.unlink, { id: made.user.identities[0].id }, { token }),
      ];
      // Either order: one goes, the other is the last way in.
      const outcomes = (await Promise.all(removals)).map(outcome);
      expect([...outcomes].sort()).toEqual(["LAST_SIGN_IN_METHOD", "true"]);
      const where = { userId: made.user.id };
      expect(
        (await server().database.passkey.count({ where })) + (await server().database.identity.count({ where })),
      ).toBe(1);
    }
  });

  it("deletes an account's passkeys and identities with it", async () => {
    const user = await signUp(server(), "deleted");
    const key = new TestAuthenticator();
    await registerPasskey(server(), user.accessToken, key);
    const login = person(newEmail("linked"), true);
    completed(await signInAs(login, user.accessToken));
    const deleteAccount = `mutation($p: String!) { deleteAccount(currentPassword: $p) }`;
    const deleted = await server().request(deleteAccount, { p: user.account.password }, { token: user.accessToken });
    expect(deleted.data).toEqual({ deleteAccount: true });
    expect(await server().database.passkey.count({ where: { userId: user.id } })).toBe(0);
    expect(await server().database.identity.count({ where: { userId: user.id } })).toBe(0);
    expect(errorCodes(await signInWithPasskey(server(), key))).toEqual(["INVALID_PASSKEY"]);
    // The person at the provider now makes an account of their own.
    expect(completed(await signInAs(login)).user.id).not.toBe(user.id);
  });
});

describe("pre-account takeover", () => {
  it("through a provider that does not check addresses: the victim's reset drops the maker's passkey with its identity", async () => {
    const victimEmail = newEmail("victim");
    const made = completed(await signInAs(person(victimEmail, false)));
    const key = new TestAuthenticator();
    const passkey = await registerPasskey(server(), made.accessToken, key);
    await resetPassword(victimEmail);
    expect(errorCodes(await signInWithPasskey(server(), key))).toEqual(["INVALID_PASSKEY"]);
    expect(await server().database.passkey.count({ where: { userId: made.user.id } })).toBe(0);
    const removed = await server().database.securityEvent.findFirst({
      where: { userId: made.user.id, kind: "passkey_removed" },
      select: { actorId: true, details: true },
    });
    expect(removed).toEqual({
      actorId: null,
      details: { passkeyId: passkey.id, name: passkey.name, by: "password_reset" },
    });
  });

  it("through a registration with the victim's address: the reset drops the squatter's passkey, which no automatic link trusts meanwhile", async () => {
    const squatter = await signUp(server(), "squat");
    const key = new TestAuthenticator();
    await registerPasskey(server(), squatter.accessToken, key);
    // The victim follows the verification link the registration mailed, not signed in: the address is proven, the passkey is not.
    const verified = await server().request(lifecycle.verifyEmail, {
      token: await mailedLink(squatter.account.email, "verify-email"),
    });
    expect(verified.data).toEqual({ verifyEmail: true });
    const victim = person(squatter.account.email, true);
    expect(errorCodes(await signInAs(victim))).toEqual(["ACCOUNT_LINK_REQUIRED"]);
    await resetPassword(squatter.account.email);
    expect(errorCodes(await signInWithPasskey(server(), key))).toEqual(["INVALID_PASSKEY"]);
    expect(completed(await signInAs(victim)).user.id).toBe(squatter.id);
  });

  it("leaves the maker no passkey whether its registration finishes before or after the victim's reset", async () => {
    const trials = 12;
    const finishes = new Map<string, number>();
    for (let trial = 0; trial < trials; trial++) {
      const squatter = await signUp(server(), "racer");
      const key = new TestAuthenticator();
      const { challengeId, options } = await beginRegistration(server(), squatter.accessToken);
      await server().request(lifecycle.requestPasswordReset, { email: squatter.account.email });
      const token = await mailedLink(squatter.account.email, "reset-password");
      // The reset sent a little later at each trial: from before the registration's finish to after it.
      const resetLater = async () => {
        await new Promise((resolve) => setTimeout(resolve, trial * 4));
        return server().request(lifecycle.resetPassword, { token, newPassword: "the owner's own password" });
      };
      const finish = server().request(
        passkeyDocuments.finishRegistration,
        { challengeId, response: key.create(options) },
        { token: squatter.accessToken },
      );
      const [finished, reset] = await Promise.all([finish, resetLater()]);
      expect(reset.data).toEqual({ resetPassword: true });
      const answer = errorCodes(finished).join() || "added";
      finishes.set(answer, (finishes.get(answer) ?? 0) + 1);
      expect(["added", "UNAUTHENTICATED"]).toContain(answer);
      expect(await server().database.passkey.count({ where: { userId: squatter.id } })).toBe(0);
      expect(errorCodes(await signInWithPasskey(server(), key))).toEqual(["INVALID_PASSKEY"]);
    }
    console.info(`registrations racing a reset: ${JSON.stringify(Object.fromEntries(finishes))}`);
  });

  it("keeps the passkeys of an owner who proved the address signed in, before or after adding them", async () => {
    const owner = await signUp(server(), "owner");
    const before = new TestAuthenticator();
    await registerPasskey(server(), owner.accessToken, before);
    const link = await mailedLink(owner.account.email, "verify-email");
    const verified = await server().request(lifecycle.verifyEmail, { token: link }, { token: owner.accessToken });
    expect(verified.data).toEqual({ verifyEmail: true });
    const after = new TestAuthenticator();
    await registerPasskey(server(), owner.accessToken, after);
    await resetPassword(owner.account.email);
    for (const key of [before, after])
      expect((await signInWithPasskey(server(), key)).data?.finishPasskeyLogin.user.id).toBe(owner.id);
  });
});

describe("what every sign-in shares", () => {
  it("caps the sessions of provider sign-ins and links at MAX_SESSIONS_PER_ACCOUNT, each event naming the provider", async () => {
    const made = await providerAccount();
    const signIns = [];
    for (let i = 0; i < 3; i++) signIns.push(completed(await signInAs(made.login)));
    // A link completes with a session of the viewer's too.
    completed(await signInAs(person(newEmail("second"), true), signIns[2].accessToken));
    const live = await server().database.session.findMany({
      where: { userId: made.user.id, revokedAt: null },
      select: { id: true },
    });
    expect(live).toHaveLength(3);
    const ended = await server().database.session.findMany({
      where: { userId: made.user.id, revokedReason: "session_limit" },
    });
    expect(ended).toHaveLength(2);
    const events = await server().database.securityEvent.findMany({
      where: { userId: made.user.id, kind: { in: ["login_succeeded", "identity_linked", "session_ended"] } },
      orderBy: { id: "asc" },
      select: { kind: true, details: true },
    });
    const ending = { kind: "session_ended", details: { reason: "session_limit", count: 1 } };
    const signIn = { kind: "login_succeeded", details: { provider: "company" } };
    expect(events).toEqual([
      signIn,
      signIn,
      signIn,
      ending,
      { kind: "identity_linked", details: { provider: "company" } },
      ending,
    ]);
  });

  it("completes a provider sign-in into an account with a second factor with a passkey, the event naming both", async () => {
    const mfa = mfaClient(server, clock);
    const account = await mfa.registerWithMfa();
    const key = new TestAuthenticator({ userVerified: false });
    await registerPasskey(server(), account.accessToken, key);
    const login = person(newEmail("mfa"), true);
    completed(await signInAs(login, account.accessToken));
    const asked = await signInAs(login);
    expect(errorCodes(asked)).toEqual(["MFA_REQUIRED"]);
    // After a provider, a passkey that proves presence only is a second factor, as after a password.
    const { challengeId, options } = await beginLogin(server(), {
      mfaToken: asked.errors![0]!.extensions!.mfaToken as string,
    });
    expect(options).toMatchObject({ userVerification: "preferred" });
    const finished = await server().request(passkeyDocuments.finishLogin, { challengeId, response: key.get(options) });
    expect(finished.data?.finishPasskeyLogin.user.id, JSON.stringify(finished.errors)).toBe(account.userId);
    const event = await server().database.securityEvent.findFirst({
      where: { userId: account.userId, kind: "login_succeeded" },
      orderBy: { id: "desc" },
    });
    expect(event?.details).toEqual({ provider: "company", secondFactor: "passkey" });
  });
});
