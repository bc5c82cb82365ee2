import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { logIn, signUp } from "./helpers/accounts.js";
import { errorCodes } from "../harness/graphql.js";
import { identityDocuments, socialLoginClient } from "./helpers/identity-providers.js";
import { mailedLinkToken, type TemporaryFileTransport } from "./helpers/mail.js";
import { TestOpenIdProvider } from "./helpers/openid-provider.js";
import { useTestServer } from "./helpers/test-server.js";

// Taking accounts over through their links to identity providers: accounts made in advance with a
// victim's address, and concurrent sign-ins, links and unlinks of one person or account.
const redirectUri = "https://app.example.com/auth/callback";
let idp: TestOpenIdProvider;
beforeAll(async () => {
  idp = await TestOpenIdProvider.start({ redirectUris: [redirectUri] });
});
afterAll(() => idp?.close());

const server = useTestServer({
  store: "redis",
  config: {
    APP_URL: "https://app.example.com",
    get IDENTITY_PROVIDERS() {
      return JSON.stringify([idp.setting("company")]);
    },
  },
});
const app = socialLoginClient(server, redirectUri);

describe("pre-account takeover", () => {
  /** The token of the link to `page` mailed to `address` (a reset link goes out after the answer: waited for). */
  const mailedLink = (address: string, page: string) =>
    mailedLinkToken(server().mailTransport as TemporaryFileTransport, address, page);

  /** The mailbox's holder resets the account's password with the mailed link. */
  async function resetPassword(email: string, newPassword: string): Promise<void> {
    await server().request(lifecycle.requestPasswordReset, { email });
    const reset = await server().request(lifecycle.resetPassword, {
      token: await mailedLink(email, "reset-password"),
      newPassword,
    });
    expect(reset.data).toEqual({ resetPassword: true });
  }

  const person = (email: string, emailVerified: boolean) => idp.addAccount({ email, emailVerified });
  const signInAs = (login: string, token?: string) => app.signIn("company", (url) => idp.signIn(url, login), token);

  it("through a provider that does not check addresses: the victim's reset drops the maker's identity and sessions", async () => {
    const victimEmail = `victim-${randomBytes(4).toString("hex")}@example.com`;
    // The attacker makes the account with the victim's address, unverified, and keeps a session.
    const attacker = person(victimEmail, false);
    const made = (await signInAs(attacker)).data!.completeSocialLogin;
    // The victim, at a provider that vouches for the address, is not let in.
    const victim = person(victimEmail, true);
    expect(errorCodes(await signInAs(victim))).toEqual(["ACCOUNT_LINK_REQUIRED"]);
    // Even once the victim, not signed in, followed a verification link the attacker asked for.
    await server().request(lifecycle.requestEmailVerification, {}, { token: made.accessToken });
    expect(
      (await server().request(lifecycle.verifyEmail, { token: await mailedLink(victimEmail, "verify-email") })).data,
    ).toEqual({ verifyEmail: true });
    expect(errorCodes(await signInAs(victim))).toEqual(["ACCOUNT_LINK_REQUIRED"]);
    // The victim takes the account over with the reset link: the attacker's identity and sessions go.
    await resetPassword(victimEmail, "the victim's own password");
    expect(await server().database.identity.count({ where: { userId: made.user.id } })).toBe(0);
    const unlinked = await server().database.securityEvent.findFirst({
      where: { userId: made.user.id, kind: "identity_unlinked" },
      select: { actorId: true, details: true },
    });
    expect(unlinked).toEqual({ actorId: null, details: { provider: "company", by: "password_reset" } });
    expect(errorCodes(await server().request(identityDocuments.me, {}, { token: made.accessToken }))).toEqual([
      "UNAUTHENTICATED",
    ]);
    expect(errorCodes(await signInAs(attacker))).toEqual(["ACCOUNT_LINK_REQUIRED"]);
    // The victim's own provider identity now links, and only it.
    expect((await signInAs(victim)).data!.completeSocialLogin.user.id).toBe(made.user.id);
    expect(
      await server().database.identity.findMany({ where: { userId: made.user.id }, select: { subject: true } }),
    ).toEqual([{ subject: victim }]);
  });

  it("through a registration with the victim's address and a password: the victim's click on the unasked verification link lets no provider in", async () => {
    for (let trial = 0; trial < 3; trial++) {
      // The squatter registers with the victim's address and a password of their own.
      const squatter = await signUp(server(), "squatter");
      const victimEmail = squatter.account.email;
      // The victim, not signed in, follows the verification link they never asked for.
      const verified = await server().request(lifecycle.verifyEmail, {
        token: await mailedLink(victimEmail, "verify-email"),
      });
      expect(verified.data).toEqual({ verifyEmail: true });
      // Signing in with a provider that vouches for the address does not hand the victim the squatter's account.
      const victim = person(victimEmail, true);
      expect(errorCodes(await signInAs(victim))).toEqual(["ACCOUNT_LINK_REQUIRED"]);
      expect(await server().database.identity.count({ where: { userId: squatter.id } })).toBe(0);
      // A reset by the mailbox's holder ends the squatter's password and sessions; then the provider links.
      await resetPassword(victimEmail, "the victim's own password");
      expect(errorCodes(await logIn(server(), squatter.account))).toEqual(["INVALID_CREDENTIALS"]);
      expect(errorCodes(await server().request(identityDocuments.me, {}, { token: squatter.accessToken }))).toEqual([
        "UNAUTHENTICATED",
      ]);
      expect((await signInAs(victim)).data!.completeSocialLogin.user.id).toBe(squatter.id);
    }
  });

  it("keeps automatic links for an owner who proved the address signed in", async () => {
    const owner = await signUp(server(), "owner");
    const token = await mailedLink(owner.account.email, "verify-email");
    expect((await server().request(lifecycle.verifyEmail, { token }, { token: owner.accessToken })).data).toEqual({
      verifyEmail: true,
    });
    const login = person(owner.account.email, true);
    expect((await signInAs(login)).data!.completeSocialLogin.user.id).toBe(owner.id);
  });

  it("through an identity linked to a registration with the victim's address: the reset drops it too", async () => {
    const squatter = await signUp(server(), "squat");
    const attacker = person(`attacker-${randomBytes(4).toString("hex")}@example.com`, true);
    expect(errorCodes(await signInAs(attacker, squatter.accessToken))).toEqual([]);
    await resetPassword(squatter.account.email, "the victim's own password");
    expect(await server().database.identity.count({ where: { userId: squatter.id } })).toBe(0);
    expect(errorCodes(await logIn(server(), squatter.account))).toEqual(["INVALID_CREDENTIALS"]);
    expect((await signInAs(attacker)).data!.completeSocialLogin.user.id).not.toBe(squatter.id);
  });

  it("does not cost an owner who verified the address signed in their identity at a reset", async () => {
    const email = `owner-${randomBytes(4).toString("hex")}@example.com`;
    const login = person(email, false);
    const made = (await signInAs(login)).data!.completeSocialLogin;
    await server().request(lifecycle.requestEmailVerification, {}, { token: made.accessToken });
    const verified = await server().request(
      lifecycle.verifyEmail,
      { token: await mailedLink(email, "verify-email") },
      { token: made.accessToken },
    );
    expect(verified.data).toEqual({ verifyEmail: true });
    await resetPassword(email, "a password of my own");
    expect((await signInAs(login)).data!.completeSocialLogin.user.id).toBe(made.user.id);
  });
});

describe("races", () => {
  /** `count` flows of one person, each answered by the provider, none completed yet. */
  async function answeredFlows(login: string, count: number, token?: string) {
    return Promise.all(
      Array.from({ length: count }, async () => {
        const started = await app.start("company", token);
        return { ...started, callbackUrl: await idp.signIn(started.authorizationUrl, login) };
      }),
    );
  }

  it("of first sign-ins of one person make one account, and every one of them signs in to it", async () => {
    for (let trial = 0; trial < 8; trial++) {
      const login = idp.addAccount({
        email: `race-${randomBytes(4).toString("hex")}@example.com`,
        emailVerified: trial % 2 === 0,
      });
      const flows = await answeredFlows(login, 4);
      const answers = await Promise.all(flows.map((flow) => app.complete(flow.flowId, flow.callbackUrl)));
      expect(answers.map((answer) => errorCodes(answer).join())).toEqual(["", "", "", ""]);
      expect(new Set(answers.map((answer) => answer.data!.completeSocialLogin.user.id)).size).toBe(1);
      expect(await server().database.identity.count({ where: { subject: login } })).toBe(1);
    }
  });

  it("of automatic links of one person link once, to the one account", async () => {
    for (let trial = 0; trial < 5; trial++) {
      const local = await signUp(server(), "racelink");
      await server().database.user.update({
        where: { id: local.id },
        data: { emailVerifiedAt: new Date(), passwordTentative: false },
      });
      const login = idp.addAccount({ email: local.account.email, emailVerified: true });
      const flows = await answeredFlows(login, 4);
      const answers = await Promise.all(flows.map((flow) => app.complete(flow.flowId, flow.callbackUrl)));
      expect(answers.map((answer) => answer.data?.completeSocialLogin.user.id ?? errorCodes(answer).join())).toEqual([
        local.id,
        local.id,
        local.id,
        local.id,
      ]);
      expect(
        await server().database.identity.findMany({ where: { subject: login }, select: { userId: true } }),
      ).toEqual([{ userId: local.id }]);
      expect(
        await server().database.securityEvent.count({ where: { userId: local.id, kind: "identity_linked" } }),
      ).toBe(1);
    }
  });

  it("of unlinks of an account's last two identities, without a password, leave one", async () => {
    for (let trial = 0; trial < 6; trial++) {
      const first = idp.addAccount({ email: `two-${randomBytes(4).toString("hex")}@example.com`, emailVerified: true });
      const made = await app.complete(
        ...(await answeredFlows(first, 1)).map((flow) => [flow.flowId, flow.callbackUrl] as const)[0]!,
      );
      const { accessToken, user } = made.data!.completeSocialLogin;
      const second = idp.addAccount({
        email: `other-${randomBytes(4).toString("hex")}@example.com`,
        emailVerified: false,
      });
      const [link] = await answeredFlows(second, 1, accessToken);
      const linked = await app.complete(link!.flowId, link!.callbackUrl, accessToken);
      const token = linked.data!.completeSocialLogin.accessToken;
      const ids = (await server().database.identity.findMany({ where: { userId: user.id } })).map(
        (identity) => identity.id,
      );
      expect(ids).toHaveLength(2);
      const answers = await Promise.all(ids.map((id) => server().request(identityDocuments.unlink, { id }, { token })));
      expect(answers.map((answer) => errorCodes(answer).join() || String(answer.data!.unlinkIdentity)).sort()).toEqual([
        "LAST_SIGN_IN_METHOD",
        "true",
      ]);
      expect(await server().database.identity.count({ where: { userId: user.id } })).toBe(1);
    }
  });

  it("of a link's completion and an unlink or the account's deletion: each answered, a success or UNAUTHENTICATED, never an error", async () => {
    const outcomes: string[] = [];
    for (let trial = 0; trial < 12; trial++) {
      const local = await signUp(server(), "racelinked");
      const person = () =>
        idp.addAccount({ email: `linked-${randomBytes(4).toString("hex")}@example.com`, emailVerified: false });
      const [first] = await answeredFlows(person(), 1, local.accessToken);
      const linked = await app.complete(first!.flowId, first!.callbackUrl, local.accessToken);
      const { id } = linked.data!.completeSocialLogin.user.identities[0];
      const [late] = await answeredFlows(person(), 1, local.accessToken);
      const token = { token: local.accessToken };
      const change =
        trial % 2 === 0
          ? server().request(identityDocuments.unlink, { id }, token)
          : server().request(lifecycle.deleteAccount, { currentPassword: local.account.password }, token);
      const [changed, completed] = await Promise.all([
        change,
        app.complete(late!.flowId, late!.callbackUrl, local.accessToken),
      ]);
      expect(changed.errors).toBeUndefined();
      const outcome = errorCodes(completed).join() || "linked";
      expect(["linked", "UNAUTHENTICATED"]).toContain(outcome);
      outcomes.push(outcome);
      // The late identity is the account's only if its completion answered so, and the account still exists.
      const stored = await server().database.identity.count({ where: { userId: local.id } });
      expect(stored).toBe(trial % 2 === 0 && outcome === "linked" ? 1 : 0);
    }
    console.log(`a link's completion vs unlinkIdentity or deleteAccount: ${outcomes.sort().join(", ")}`);
  });
});
