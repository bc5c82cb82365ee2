import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../src/free-port.js";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { admin, logIn, signUp, signUpAdmin, type SignedUp } from "./helpers/accounts.js";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, sessionMutations, type GraphQLResponse } from "../harness/graphql.js";
import { identityDocuments, socialLoginClient } from "./helpers/identity-providers.js";
import { linkToken, TestMailServer } from "./helpers/mail.js";
import { authenticatorCode, mfaClient } from "./helpers/mfa.js";
import { TestOpenIdProvider, type ProviderAccount } from "./helpers/openid-provider.js";
import { deliveredMail } from "./helpers/outbox.js";
import { useTestServer } from "./helpers/test-server.js";

// Sign-in with a real OpenID provider (oidc-provider on loopback), its login and consent pages
// driven over HTTP as a browser would, against the real server, PostgreSQL and Redis.
const redirectUri = "https://app.example.com/auth/callback";
let idp: TestOpenIdProvider;
let userinfoIdp: TestOpenIdProvider;
let closedPort: number;
let mail: TestMailServer;
beforeAll(async () => {
  idp = await TestOpenIdProvider.start({ redirectUris: [redirectUri] });
  userinfoIdp = await TestOpenIdProvider.start({ redirectUris: [redirectUri], emailInIdToken: false });
  closedPort = await freePort();
  mail = await TestMailServer.start();
});
afterAll(async () => {
  await Promise.all([idp?.close(), userinfoIdp?.close(), mail?.close()]);
});

const clock = new ManualClock();
const server = useTestServer({
  store: "redis",
  clock,
  config: {
    APP_URL: "https://app.example.com",
    get SMTP_URL() {
      return mail.url;
    },
    get IDENTITY_PROVIDERS() {
      const down = {
        id: "down",
        name: "Down",
        issuer: `http://127.0.0.1:${closedPort}`,
        clientId: "x",
        clientSecret: "y",
      };
      return JSON.stringify([
        idp.setting("company", "Company IdP"),
        down,
        userinfoIdp.setting("userinfo", "Userinfo IdP"),
      ]);
    },
    IDENTITY_PROVIDER_TIMEOUT: "2s",
  },
});
const app = socialLoginClient(server, redirectUri);
const mfa = mfaClient(server, clock);

/** A person at the company provider, signing in there: `completeSocialLogin`'s answer. */
const signInAs = (login: string, token?: string, provider = "company", at = idp) =>
  app.signIn(provider, (url) => at.signIn(url, login), token);

function payload(response: GraphQLResponse) {
  expect(errorCodes(response)).toEqual([]);
  return response.data!.completeSocialLogin;
}

const personWith = (account: Partial<ProviderAccount> = {}, at = idp) =>
  at.addAccount({
    email: `person-${Math.random().toString(36).slice(2)}@example.com`,
    emailVerified: true,
    ...account,
  });

async function eventsOf(userId: string) {
  const events = await server().database.securityEvent.findMany({ where: { userId }, orderBy: { id: "asc" } });
  return events.map((event) => ({ kind: event.kind, actorId: event.actorId, details: event.details }));
}

/** A registered account whose address was verified through its mailed link. */
async function verifiedAccount(): Promise<SignedUp> {
  const user = await signUp(server(), "local");
  const token = linkToken(await mail.waitFor(user.account.email), "verify-email");
  // Proved signed in: the password is the mailbox owner's (a proof by a stranger's click would not say so).
  const verified = await server().request(lifecycle.verifyEmail, { token }, { token: user.accessToken });
  expect(verified.data).toEqual({ verifyEmail: true });
  return user;
}

const storedState = async (email: string) => ({
  users: await server().database.user.count({ where: { email } }),
  identities: await server().database.identity.count({ where: { email } }),
  sessions: await server().database.session.count({ where: { user: { email } } }),
});

describe("providers", () => {
  it("lists the providers whose discovery succeeded; one that failed is unavailable, not fatal", async () => {
    const response = await server().request(identityDocuments.providers);
    expect(response.data).toEqual({
      identityProviders: [
        { id: "company", name: "Company IdP" },
        { id: "userinfo", name: "Userinfo IdP" },
      ],
    });
    const down = await server().request(identityDocuments.start, { provider: "down", redirectUri });
    expect(errorCodes(down)).toEqual(["SERVICE_UNAVAILABLE"]);
    const unknown = await server().request(identityDocuments.start, { provider: "nope", redirectUri });
    expect(errorCodes(unknown)).toEqual(["BAD_USER_INPUT"]);
    expect(unknown.errors![0]!.extensions!.field).toBe("provider");
  });

  it("discovers a provider that was down at start once it answers, trying again at most once a minute", async () => {
    const late = await TestOpenIdProvider.start({ redirectUris: [redirectUri], port: closedPort });
    try {
      expect(errorCodes(await server().request(identityDocuments.start, { provider: "down", redirectUri }))).toEqual([
        "SERVICE_UNAVAILABLE",
      ]);
      expect((await server().request(identityDocuments.providers)).data!.identityProviders).toHaveLength(2);
      clock.advance(61);
      const started = await server().request(identityDocuments.start, { provider: "down", redirectUri });
      expect(errorCodes(started)).toEqual([]);
      expect(new URL(started.data!.startSocialLogin.authorizationUrl).origin).toBe(late.issuer);
      expect(
        (await server().request(identityDocuments.providers)).data!.identityProviders.map(
          (provider: { id: string }) => provider.id,
        ),
      ).toEqual(["company", "down", "userinfo"]);
    } finally {
      await late.close();
    }
  });

  it("sends the browser to the provider with state, nonce and PKCE (S256) and the allowed redirect URI", async () => {
    const started = await app.start("company");
    const url = new URL(started.authorizationUrl);
    expect(url.origin).toBe(idp.issuer);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: idp.clientId,
      redirect_uri: redirectUri,
      response_type: "code",
      scope: "openid email profile",
      code_challenge_method: "S256",
      state: expect.stringMatching(/^[\w-]{43}$/),
      nonce: expect.stringMatching(/^[\w-]{43}$/),
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
    });
    expect(started.flowId).toMatch(/^[\w-]{43}$/);
  });
});

describe("a first sign-in", () => {
  it("makes an account without a password, its username from the provider, its address verified as the provider says", async () => {
    const login = personWith({ email: "Ada.Lovelace@Example.com", preferredUsername: "ada lovelace" });
    const signedIn = payload(await signInAs(login));
    expect(signedIn.user).toMatchObject({
      username: "ada_lovelace",
      email: "ada.lovelace@example.com",
      emailVerified: true,
      hasPassword: false,
    });
    expect(signedIn.user.identities).toEqual([
      { id: expect.any(String), provider: "company", email: "ada.lovelace@example.com", linkedAt: expect.any(String) },
    ]);
    const stored = await server().database.user.findUniqueOrThrow({
      where: { id: signedIn.user.id },
      include: { identities: true },
    });
    expect(stored.passwordHash).toBeNull();
    expect(stored.identities).toMatchObject([{ issuer: `${idp.issuer}`, subject: login, provider: "company" }]);
    expect(await eventsOf(signedIn.user.id)).toEqual([
      { kind: "registered", actorId: signedIn.user.id, details: { provider: "company" } },
    ]);
    // The tokens work.
    const me = await server().request(identityDocuments.me, {}, { token: signedIn.accessToken });
    expect(me.data!.me.id).toBe(signedIn.user.id);
  });

  it("leaves the address unverified when the provider does not vouch for it, and makes taken usernames unique", async () => {
    const first = payload(await signInAs(personWith({ preferredUsername: "grace" })));
    const second = payload(await signInAs(personWith({ preferredUsername: "grace", emailVerified: false })));
    expect(first.user.username).toBe("grace");
    expect(second.user.username).toMatch(/^grace-\d{4}$/);
    expect(second.user.emailVerified).toBe(false);
  });

  it("reads the address from userinfo when the ID token has none", async () => {
    const login = personWith({ email: "from-userinfo@example.com" }, userinfoIdp);
    const signedIn = payload(await signInAs(login, undefined, "userinfo", userinfoIdp));
    expect(signedIn.user).toMatchObject({
      email: "from-userinfo@example.com",
      emailVerified: true,
      username: "from-userinfo",
    });
  });
});

describe("a returning sign-in", () => {
  it("signs in to the linked account, with a new session and the provider in its event", async () => {
    const login = personWith();
    const first = payload(await signInAs(login));
    const again = payload(await signInAs(login));
    expect(again.user.id).toBe(first.user.id);
    expect(again.refreshToken).not.toBe(first.refreshToken);
    expect(await server().database.session.count({ where: { userId: first.user.id, revokedAt: null } })).toBe(2);
    expect((await eventsOf(first.user.id)).at(-1)).toEqual({
      kind: "login_succeeded",
      actorId: first.user.id,
      details: { provider: "company" },
    });
  });

  it("refuses a locked account as a login would", async () => {
    const login = personWith();
    const { user } = payload(await signInAs(login));
    const root = await signUpAdmin(server(), "idpadmin");
    expect(errorCodes(await server().request(admin.lockUser, { id: user.id }, { token: root.accessToken }))).toEqual(
      [],
    );
    expect(errorCodes(await signInAs(login))).toEqual(["ACCOUNT_LOCKED"]);
    expect((await eventsOf(user.id)).at(-1)).toEqual({
      kind: "login_failed",
      actorId: null,
      details: { provider: "company", reason: "locked" },
    });
  });
});

describe("linking by address", () => {
  it("links automatically when both the provider and the account vouch for the address, and tells the owner", async () => {
    const local = await verifiedAccount();
    const login = personWith({ email: local.account.email.toUpperCase(), emailVerified: true });
    const signedIn = payload(await signInAs(login));
    expect(signedIn.user).toMatchObject({
      id: local.id,
      hasPassword: true,
      identities: [{ provider: "company", email: local.account.email }],
    });
    await deliveredMail(
      server(),
      mail,
      local.account.email,
      "Signing in with Company IdP is now linked to your account",
    );
    expect((await eventsOf(local.id)).slice(-2)).toEqual([
      { kind: "identity_linked", actorId: null, details: { provider: "company", by: "verified_email" } },
      { kind: "login_succeeded", actorId: local.id, details: { provider: "company" } },
    ]);
    // The password still signs in too.
    expect(errorCodes(await logIn(server(), local.account))).toEqual([]);
  });

  it("answers ACCOUNT_LINK_REQUIRED when either side does not vouch for the address, and stores nothing", async () => {
    const verifiedLocal = await verifiedAccount();
    const unverifiedLocal = await signUp(server(), "unverified");
    const cases = [
      { email: verifiedLocal.account.email, emailVerified: false },
      { email: unverifiedLocal.account.email, emailVerified: true },
      { email: unverifiedLocal.account.email, emailVerified: false },
    ];
    for (const person of cases) {
      const before = await storedState(person.email);
      const response = await signInAs(personWith(person));
      expect(errorCodes(response)).toEqual(["ACCOUNT_LINK_REQUIRED"]);
      expect(response.data).toBeNull();
      expect(await storedState(person.email)).toEqual({ ...before, identities: 0 });
    }
  });
});

describe("linking and unlinking, signed in", () => {
  it("links an identity to the viewer, whatever its address, then signs in with it", async () => {
    const local = await signUp(server(), "linker");
    const login = personWith({ email: "someone-else@example.org", emailVerified: false });
    const linked = payload(await signInAs(login, local.accessToken));
    expect(linked.user).toMatchObject({
      id: local.id,
      identities: [{ provider: "company", email: "someone-else@example.org" }],
    });
    expect((await eventsOf(local.id)).at(-1)).toEqual({
      kind: "identity_linked",
      actorId: local.id,
      details: { provider: "company" },
    });
    await deliveredMail(
      server(),
      mail,
      local.account.email,
      "Signing in with Company IdP is now linked to your account",
    );
    expect(payload(await signInAs(login)).user.id).toBe(local.id);
  });

  it("completes a link only for the account that started it", async () => {
    const [owner, other] = [await signUp(server(), "owner"), await signUp(server(), "other")];
    const login = personWith();
    for (const token of [undefined, other.accessToken]) {
      const started = await app.start("company", owner.accessToken);
      const response = await app.complete(started.flowId, await idp.signIn(started.authorizationUrl, login), token);
      expect(errorCodes(response)).toEqual([token ? "INVALID_CHALLENGE" : "UNAUTHENTICATED"]);
    }
    expect(await server().database.identity.count({ where: { subject: login } })).toBe(0);
  });

  it("refuses an identity linked to another account: IDENTITY_ALREADY_LINKED", async () => {
    const login = personWith();
    const holder = payload(await signInAs(login));
    const local = await signUp(server(), "second");
    expect(errorCodes(await signInAs(login, local.accessToken))).toEqual(["IDENTITY_ALREADY_LINKED"]);
    expect(await server().database.identity.findMany({ where: { subject: login }, select: { userId: true } })).toEqual([
      { userId: holder.user.id },
    ]);
  });

  it("unlinks: the identity no longer signs in, the other sessions end, the owner is told", async () => {
    const local = await signUp(server(), "unlinker");
    const login = personWith();
    const linked = payload(await signInAs(login, local.accessToken));
    const identityId = linked.user.identities[0].id;
    const stranger = await signUp(server(), "stranger");
    expect(
      (await server().request(identityDocuments.unlink, { id: identityId }, { token: stranger.accessToken })).data,
    ).toEqual({ unlinkIdentity: false });
    expect(
      (await server().request(identityDocuments.unlink, { id: "not-an-id" }, { token: local.accessToken })).data,
    ).toEqual({ unlinkIdentity: false });
    const unlinked = await server().request(identityDocuments.unlink, { id: identityId }, { token: local.accessToken });
    expect(unlinked.data).toEqual({ unlinkIdentity: true });
    expect(
      (await server().request(identityDocuments.unlink, { id: identityId }, { token: local.accessToken })).data,
    ).toEqual({ unlinkIdentity: false });
    // The session that unlinked goes on; the one the link started ended.
    expect(errorCodes(await server().request(identityDocuments.me, {}, { token: local.accessToken }))).toEqual([]);
    expect(errorCodes(await server().request(identityDocuments.me, {}, { token: linked.accessToken }))).toEqual([
      "UNAUTHENTICATED",
    ]);
    await deliveredMail(
      server(),
      mail,
      local.account.email,
      "Signing in with Company IdP was unlinked from your account",
    );
    expect((await eventsOf(local.id)).at(-1)).toEqual({
      kind: "identity_unlinked",
      actorId: local.id,
      details: { provider: "company" },
    });
    // Signing in with it now makes an account of its own: it names the old one no more.
    expect(payload(await signInAs(login)).user.id).not.toBe(local.id);
  });

  it("never unlinks the last way to sign in: LAST_SIGN_IN_METHOD until a password is set", async () => {
    const first = personWith();
    const made = payload(await signInAs(first));
    const [identityId] = made.user.identities.map((identity: { id: string }) => identity.id);
    expect(
      errorCodes(await server().request(identityDocuments.unlink, { id: identityId }, { token: made.accessToken })),
    ).toEqual(["LAST_SIGN_IN_METHOD"]);
    expect(await server().database.identity.count({ where: { userId: made.user.id } })).toBe(1);
    // A second identity, then either may go, but not both.
    const second = payload(await signInAs(personWith({}, userinfoIdp), made.accessToken, "userinfo", userinfoIdp));
    expect(
      (await server().request(identityDocuments.unlink, { id: identityId }, { token: second.accessToken })).data,
    ).toEqual({ unlinkIdentity: true });
    const [lastId] = (await server().database.identity.findMany({ where: { userId: made.user.id } })).map(
      (identity) => identity.id,
    );
    expect(
      errorCodes(await server().request(identityDocuments.unlink, { id: lastId }, { token: second.accessToken })),
    ).toEqual(["LAST_SIGN_IN_METHOD"]);
    // A password set through the reset link is a way in: the last identity may go then.
    await server().request(lifecycle.requestPasswordReset, { email: made.user.email });
    await server().app.services.passwordReset.settled();
    const token = linkToken(
      await deliveredMail(server(), mail, made.user.email, "Reset your password"),
      "reset-password",
    );
    expect(
      (await server().request(lifecycle.resetPassword, { token, newPassword: "a password set at last" })).data,
    ).toEqual({ resetPassword: true });
    const login = await logIn(server(), { username: made.user.username, password: "a password set at last" });
    const unlinked = await server().request(
      identityDocuments.unlink,
      { id: lastId },
      { token: login.data!.login.accessToken },
    );
    expect(unlinked.data).toEqual({ unlinkIdentity: true });
  });

  it("shows identities and hasPassword to the owner only", async () => {
    const made = payload(await signInAs(personWith()));
    const stranger = await signUp(server(), "peek");
    const query = `query($id: ID!) { user(id: $id) { id identities { id } hasPassword } }`;
    for (const token of [stranger.accessToken, undefined]) {
      const response = await server().request(query, { id: made.user.id }, { token });
      expect(response.data!.user).toEqual({ id: made.user.id, identities: null, hasPassword: null });
      expect(errorCodes(response)).toEqual(["FORBIDDEN", "FORBIDDEN"]);
    }
    const own = await server().request(query, { id: made.user.id }, { token: made.accessToken });
    expect(own.data!.user).toMatchObject({ hasPassword: false, identities: [{ id: made.user.identities[0].id }] });
  });

  it("deletes the account's identities with the account", async () => {
    const local = await signUp(server(), "leaving");
    const login = personWith();
    payload(await signInAs(login, local.accessToken));
    const deleted = await server().request(
      lifecycle.deleteAccount,
      { currentPassword: local.account.password },
      { token: local.accessToken },
    );
    expect(deleted.data).toEqual({ deleteAccount: true });
    expect(await server().database.identity.count({ where: { userId: local.id } })).toBe(0);
  });
});

describe("a second factor", () => {
  it("is still required: MFA_REQUIRED, then completeLogin starts the session, its event naming the provider", async () => {
    const registered = await mfa.registerWithMfa();
    const login = personWith();
    // Linked while signed in (its address is not the account's).
    payload(await signInAs(login, registered.accessToken));
    const response = await signInAs(login);
    expect(errorCodes(response)).toEqual(["MFA_REQUIRED"]);
    const mfaToken = response.errors![0]!.extensions!.mfaToken as string;
    const sessionsBefore = await server().database.session.count({ where: { userId: registered.userId } });
    const completed = await mfa.complete(mfaToken, await authenticatorCode(registered.secret, clock));
    expect(errorCodes(completed)).toEqual([]);
    expect(completed.data!.completeLogin.user.id).toBe(registered.userId);
    expect(await server().database.session.count({ where: { userId: registered.userId } })).toBe(sessionsBefore + 1);
    expect((await eventsOf(registered.userId)).at(-1)).toEqual({
      kind: "login_succeeded",
      actorId: registered.userId,
      details: { provider: "company" },
    });
  });
});

describe("sessions of provider sign-ins", () => {
  it("refresh and log out as any other", async () => {
    const made = payload(await signInAs(personWith()));
    const refreshed = await server().request(sessionMutations.refresh, { refreshToken: made.refreshToken });
    expect(errorCodes(refreshed)).toEqual([]);
    expect(
      errorCodes(
        await server().request(sessionMutations.logout, {}, { token: refreshed.data!.refreshSession.accessToken }),
      ),
    ).toEqual([]);
  });
});

describe("with REQUIRE_EMAIL_VERIFICATION", () => {
  const strict = useTestServer({
    store: "redis",
    config: {
      REQUIRE_EMAIL_VERIFICATION: "true",
      REDIRECT_URIS: redirectUri,
      get IDENTITY_PROVIDERS() {
        return JSON.stringify([idp.setting("company", "Company IdP")]);
      },
    },
  });
  const strictApp = socialLoginClient(strict, redirectUri);

  it("a first sign-in gets its session as register does; later ones need the address verified", async () => {
    const unverified = personWith({ emailVerified: false });
    const first = await strictApp.signIn("company", (url) => idp.signIn(url, unverified));
    expect(errorCodes(first)).toEqual([]);
    const again = await strictApp.signIn("company", (url) => idp.signIn(url, unverified));
    expect(errorCodes(again)).toEqual(["EMAIL_NOT_VERIFIED"]);
    const userId = first.data!.completeSocialLogin.user.id;
    const refused = await strict().database.securityEvent.findFirst({
      where: { userId, kind: "login_failed" },
      select: { details: true },
    });
    expect(refused).toEqual({ details: { provider: "company", reason: "email_not_verified" } });
    const verified = personWith({ emailVerified: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(errorCodes(await strictApp.signIn("company", (url) => idp.signIn(url, verified)))).toEqual([]);
    }
  });
});
