import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { signUp, type SignedUp } from "./helpers/accounts.js";
import { FakeGitHub, type GitHubPerson } from "./helpers/fake-github.js";
import { errorCodes, type GraphQLResponse } from "../harness/graphql.js";
import { identityDocuments, socialLoginClient } from "./helpers/identity-providers.js";
import { capturedLogger } from "./helpers/log.js";
import { linkToken, TestMailServer } from "./helpers/mail.js";
import { useTestServer } from "./helpers/test-server.js";

// The GitHub preset (plain OAuth 2, no ID token) against a fake of GitHub's pages, token endpoint
// and REST API on loopback, whose base URLs are the preset's settings.
const redirectUri = "https://app.example.com/auth/callback";
let github: FakeGitHub;
let mail: TestMailServer;
beforeAll(async () => {
  [github, mail] = await Promise.all([FakeGitHub.start(), TestMailServer.start()]);
});
afterAll(async () => {
  await Promise.all([github?.close(), mail?.close()]);
});

const { logger, lines } = capturedLogger("info");
const server = useTestServer({
  store: "redis",
  logger,
  config: {
    APP_URL: "https://app.example.com",
    IDENTITY_PROVIDER_TIMEOUT: "1s",
    get SMTP_URL() {
      return mail.url;
    },
    get IDENTITY_PROVIDERS() {
      return JSON.stringify([github.setting()]);
    },
  },
});
const app = socialLoginClient(server, redirectUri);

let nextId = 1000;
function person(changes: Partial<GitHubPerson> = {}): GitHubPerson {
  const login = `octo-${randomBytes(3).toString("hex")}`;
  return {
    id: nextId++,
    login,
    name: "Octo Cat",
    email: null,
    emails: [{ email: `${login}@example.com`, primary: true, verified: true }],
    ...changes,
  };
}

async function signInAs(who: GitHubPerson, token?: string): Promise<GraphQLResponse> {
  github.person = who;
  return app.signIn("github", (url) => github.signIn(url), token);
}

async function verifiedAccount(): Promise<SignedUp> {
  const user = await signUp(server(), "ghlocal");
  const token = linkToken(await mail.waitFor(user.account.email), "verify-email");
  // Proved signed in: the password is the mailbox owner's (a proof by a stranger's click would not say so).
  const verified = await server().request(lifecycle.verifyEmail, { token }, { token: user.accessToken });
  expect(verified.data).toEqual({ verifyEmail: true });
  return user;
}

const lastRefusal = () =>
  lines
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.msg === "sign-in with an identity provider refused")
    .at(-1);

describe("the GitHub preset", () => {
  it("is listed, and sends the browser to GitHub's page with state, PKCE and the scopes for the addresses", async () => {
    expect((await server().request(identityDocuments.providers)).data).toEqual({
      identityProviders: [{ id: "github", name: "GitHub" }],
    });
    const started = await app.start("github");
    const url = new URL(started.authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${github.webUrl}/login/oauth/authorize`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: github.clientId,
      redirect_uri: redirectUri,
      scope: "read:user user:email",
      code_challenge_method: "S256",
      allow_signup: "false",
      state: expect.stringMatching(/^[\w-]{43}$/),
    });
    expect(url.searchParams.has("nonce")).toBe(false);
  });

  it("makes an account of the GitHub user: its login as username, its verified primary address", async () => {
    const octo = person({
      emails: [
        { email: "Other@Example.com", primary: false, verified: true },
        { email: "Main@Example.com", primary: true, verified: true },
      ],
    });
    const response = await signInAs(octo);
    expect(errorCodes(response)).toEqual([]);
    const { user } = response.data!.completeSocialLogin;
    expect(user).toMatchObject({
      username: octo.login,
      email: "main@example.com",
      emailVerified: true,
      hasPassword: false,
      identities: [{ provider: "github" }],
    });
    const identity = await server().database.identity.findFirstOrThrow({ where: { userId: user.id } });
    expect(identity).toMatchObject({ issuer: github.webUrl, subject: String(octo.id), email: "main@example.com" });
    // The client secret went in the form, with the PKCE verifier and the redirect URI.
    expect(Object.fromEntries(github.tokenRequests.at(-1)!)).toMatchObject({
      client_id: github.clientId,
      client_secret: github.clientSecret,
      redirect_uri: redirectUri,
      code_verifier: expect.stringMatching(/^[\w-]{43}$/),
    });
  });

  it("signs in by GitHub's numeric id, whatever the login and address became", async () => {
    const octo = person();
    const first = (await signInAs(octo)).data!.completeSocialLogin;
    const renamed = {
      ...octo,
      login: "renamed-octo",
      emails: [{ email: "new-address@example.com", primary: true, verified: true }],
    };
    const again = await signInAs(renamed);
    expect(errorCodes(again)).toEqual([]);
    expect(again.data!.completeSocialLogin.user.id).toBe(first.user.id);
    expect(again.data!.completeSocialLogin.user.identities[0].email).toBe("new-address@example.com");
  });

  it("links automatically when the primary address is verified at GitHub and in the account", async () => {
    const local = await verifiedAccount();
    const response = await signInAs(
      person({ emails: [{ email: local.account.email, primary: true, verified: true }] }),
    );
    expect(errorCodes(response)).toEqual([]);
    expect(response.data!.completeSocialLogin.user.id).toBe(local.id);
  });

  it("never links by an unverified primary address: ACCOUNT_LINK_REQUIRED, nothing stored", async () => {
    const local = await verifiedAccount();
    const octo = person({ emails: [{ email: local.account.email, primary: true, verified: false }] });
    const response = await signInAs(octo);
    expect(errorCodes(response)).toEqual(["ACCOUNT_LINK_REQUIRED"]);
    expect(await server().database.identity.count({ where: { subject: String(octo.id) } })).toBe(0);
    // Linked by the owner, signed in, it is theirs.
    const linked = await signInAs(octo, local.accessToken);
    expect(errorCodes(linked)).toEqual([]);
    expect(linked.data!.completeSocialLogin.user.id).toBe(local.id);
  });

  it("makes an unverified account of an unverified primary address, and of the public one when the list is refused", async () => {
    const unverified = await signInAs(
      person({ emails: [{ email: "unverified-primary@example.com", primary: true, verified: false }] }),
    );
    expect(unverified.data!.completeSocialLogin.user).toMatchObject({
      email: "unverified-primary@example.com",
      emailVerified: false,
    });
    const noList = await signInAs(person({ email: "Public@Example.com", emails: null }));
    expect(noList.data!.completeSocialLogin.user).toMatchObject({ email: "public@example.com", emailVerified: false });
    const nothing = await signInAs(person({ email: null, emails: null }));
    expect(errorCodes(nothing)).toEqual(["SOCIAL_LOGIN_FAILED"]);
    expect(lastRefusal()).toMatchObject({
      check: "account",
      reason: "the provider gave no usable e-mail address for a new account",
    });
  });

  it("refuses a wrong state, a code GitHub refuses (a 200 with an error) and a failing API, storing nothing", async () => {
    const before = await server().database.user.count();
    const octo = person();
    github.person = octo;
    const started = await app.start("github");
    const callbackUrl = new URL(await github.signIn(started.authorizationUrl));
    callbackUrl.searchParams.set("state", "forged");
    expect(errorCodes(await app.complete(started.flowId, callbackUrl.href))).toEqual(["SOCIAL_LOGIN_FAILED"]);
    const other = await app.start("github");
    const state = new URL(other.authorizationUrl).searchParams.get("state")!;
    expect(errorCodes(await app.complete(other.flowId, `${redirectUri}?code=not-a-code&state=${state}`))).toEqual([
      "SOCIAL_LOGIN_FAILED",
    ]);
    expect(lastRefusal()).toMatchObject({
      check: "authorization code grant",
      reason: expect.stringMatching(/access_token/),
    });
    github.failUser = true;
    expect(errorCodes(await signInAs(person()))).toEqual(["SOCIAL_LOGIN_FAILED"]);
    github.failUser = false;
    expect(lastRefusal()).toMatchObject({ check: "user", reason: "HTTP 502" });
    expect(await server().database.user.count()).toBe(before);
  });

  it("waits at most IDENTITY_PROVIDER_TIMEOUT for GitHub, and serves meanwhile", async () => {
    for (const hang of ["token", "user"] as const) {
      github.hang = hang;
      const completion = signInAs(person());
      const live = await fetch(`${server().baseUrl}/health/live`);
      expect(live.status).toBe(200);
      expect(errorCodes(await completion)).toEqual(["SOCIAL_LOGIN_FAILED"]);
      expect(lastRefusal()).toMatchObject({ reason: expect.stringMatching(/no answer in time/) });
    }
    github.hang = undefined;
  });
});
