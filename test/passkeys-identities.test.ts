import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "./helpers/accounts.js";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, type GraphQLResponse } from "./helpers/graphql.js";
import { identityDocuments, socialLoginClient } from "./helpers/identity-providers.js";
import { mfaClient } from "./helpers/mfa.js";
import { TestOpenIdProvider } from "./helpers/openid-provider.js";
import { beginLogin, passkeyDocuments, passkeySettings, registerPasskey, signInWithPasskey, TestAuthenticator } from "./helpers/passkeys.js";
import { useTestServer } from "./helpers/test-server.js";

// Passkeys and identity providers on one account: the ways to sign in counted together, and what
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

/** `removePasskey`'s or `unlinkIdentity`'s answer: its Boolean, or its error codes. */
const outcome = (response: GraphQLResponse) => errorCodes(response).join() || String(Object.values(response.data!)[0]);

describe("the ways to sign in", () => {
  it("lets an account without a password add a passkey after signing in, and never lose its last way in", async () => {
    const made = await providerAccount();
    const token = made.accessToken;
    // No password to give; the sign-in just made is recent enough.
    expect(errorCodes(await server().request(passkeyDocuments.beginRegistration, { currentPassword: "any password" }, { token }))).toEqual(["PASSWORD_NOT_SET"]);
    const key = new TestAuthenticator();
    const passkey = await registerPasskey(server(), token, key);
    // The identity can go while the passkey signs in; then the passkey is the last way in.
    expect(outcome(await server().request(identityDocuments.unlink, { id: made.user.identities[0].id }, { token }))).toBe("true");
    expect(outcome(await server().request(passkeyDocuments.remove, { id: passkey.id }, { token }))).toBe("LAST_SIGN_IN_METHOD");
    const signedIn = await signInWithPasskey(server(), key);
    expect(signedIn.data?.finishPasskeyLogin.user.id, JSON.stringify(signedIn.errors)).toBe(made.user.id);
    // Linked again, the identity lets the passkey go, and is the last way in in turn.
    const relinked = completed(await signInAs(made.login, signedIn.data!.finishPasskeyLogin.accessToken));
    expect(outcome(await server().request(passkeyDocuments.remove, { id: passkey.id }, { token: relinked.accessToken }))).toBe("true");
    const identityId = relinked.user.identities[0].id;
    expect(outcome(await server().request(identityDocuments.unlink, { id: identityId }, { token: relinked.accessToken }))).toBe("LAST_SIGN_IN_METHOD");
    expect(completed(await signInAs(made.login)).user.id).toBe(made.user.id);
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
      const left = (await server().database.passkey.count({ where: { userId: made.user.id } })) + (await server().database.identity.count({ where: { userId: made.user.id } }));
      expect(left).toBe(1);
    }
  });

  it("deletes an account's passkeys and identities with it", async () => {
    const user = await signUp(server(), "deleted");
    const key = new TestAuthenticator();
    await registerPasskey(server(), user.accessToken, key);
    const login = person(newEmail("linked"), true);
    completed(await signInAs(login, user.accessToken));
    const deleted = await server().request(`mutation($p: String!) { deleteAccount(currentPassword: $p) }`, { p: user.account.password }, { token: user.accessToken });
    expect(deleted.data).toEqual({ deleteAccount: true });
    expect(await server().database.passkey.count({ where: { userId: user.id } })).toBe(0);
    expect(await server().database.identity.count({ where: { userId: user.id } })).toBe(0);
    expect(errorCodes(await signInWithPasskey(server(), key))).toEqual(["INVALID_PASSKEY"]);
    // The person at the provider now makes an account of their own.
    expect(completed(await signInAs(login)).user.id).not.toBe(user.id);
  });
});

describe("what every sign-in shares", () => {
  it("caps the sessions of provider sign-ins and links at MAX_SESSIONS_PER_ACCOUNT, each event naming the provider", async () => {
    const made = await providerAccount();
    const signIns = [];
    for (let i = 0; i < 3; i++) signIns.push(completed(await signInAs(made.login)));
    // A link completes with a session of the viewer's too.
    completed(await signInAs(person(newEmail("second"), true), signIns[2].accessToken));
    const live = await server().database.session.findMany({ where: { userId: made.user.id, revokedAt: null }, select: { id: true } });
    expect(live).toHaveLength(3);
    const ended = await server().database.session.findMany({ where: { userId: made.user.id, revokedReason: "session_limit" } });
    expect(ended).toHaveLength(2);
    const events = await server().database.securityEvent.findMany({
      where: { userId: made.user.id, kind: { in: ["login_succeeded", "identity_linked", "session_ended"] } },
      orderBy: { id: "asc" },
      select: { kind: true, details: true },
    });
    const ending = { kind: "session_ended", details: { reason: "session_limit", count: 1 } };
    const signIn = { kind: "login_succeeded", details: { provider: "company" } };
    expect(events).toEqual([signIn, signIn, signIn, ending, { kind: "identity_linked", details: { provider: "company" } }, ending]);
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
    const { challengeId, options } = await beginLogin(server(), { mfaToken: asked.errors![0]!.extensions!.mfaToken as string });
    expect(options).toMatchObject({ userVerification: "preferred" });
    const finished = await server().request(passkeyDocuments.finishLogin, { challengeId, response: key.get(options) });
    expect(finished.data?.finishPasskeyLogin.user.id, JSON.stringify(finished.errors)).toBe(account.userId);
    const event = await server().database.securityEvent.findFirst({ where: { userId: account.userId, kind: "login_succeeded" }, orderBy: { id: "desc" } });
    expect(event?.details).toEqual({ provider: "company", secondFactor: "passkey" });
  });
});
