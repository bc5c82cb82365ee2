import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCodes, type GraphQLResponse } from "../harness/graphql.js";
import { HungMailServer, TestMailServer } from "../harness/mail-servers.js";
import { newWebhookSecret, WebhookReceiver } from "../harness/webhooks.js";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { signUp, type SignedUp } from "./helpers/accounts.js";
import { identityDocuments, socialLoginClient } from "./helpers/identity-providers.js";
import { TestOpenIdProvider } from "./helpers/openid-provider.js";
import { eventTypesOf, failCommitsWriting, outboxMessagesOf, outboxSettled } from "./helpers/outbox.js";
import { useTestServer } from "./helpers/test-server.js";

// Identity providers and the outbox: the notice of an identity linked or unlinked is mail like any
// other, queued in the transaction of the change; an account made by a first sign-in tells other
// services as a registration does; deleting an account that holds identities emits user.deleted.
const redirectUri = "https://app.example.com/auth/callback";
const secret = newWebhookSecret();
let idp: TestOpenIdProvider;
let mail: TestMailServer | HungMailServer;
let mailPort: number;
let receiver: WebhookReceiver;
beforeAll(async () => {
  idp = await TestOpenIdProvider.start({ redirectUris: [redirectUri] });
  const working = await TestMailServer.start();
  [mail, mailPort, receiver] = [working, working.port, await WebhookReceiver.start(secret)];
});
afterAll(async () => {
  await Promise.all([idp?.close(), mail?.close(), receiver?.close()]);
});

const server = useTestServer({
  store: "redis",
  config: {
    APP_URL: "https://app.example.com",
    get IDENTITY_PROVIDERS() {
      return JSON.stringify([idp.setting("company")]);
    },
    get SMTP_URL() {
      return `smtp://127.0.0.1:${mailPort}`;
    },
    get EVENT_WEBHOOK_URLS() {
      return receiver.url;
    },
    EVENT_WEBHOOK_SECRET: secret,
    SMTP_TIMEOUT: "1s",
  },
});
const app = socialLoginClient(server, redirectUri);

const linkedNotice = "Signing in with Test IdP is now linked to your account";
const unlinkedNotice = "Signing in with Test IdP was unlinked from your account";

/** The mail server on the same port: a hung one, or a working one again. */
async function mailServer(kind: "hung" | "working"): Promise<void> {
  await mail.close();
  mail = kind === "hung" ? await HungMailServer.start(mailPort) : await TestMailServer.start({ port: mailPort });
}

const newEmail = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}@example.com`;
const person = (email: string, emailVerified: boolean) => idp.addAccount({ email, emailVerified });
const signInAs = (login: string, token?: string) => app.signIn("company", (url) => idp.signIn(url, login), token);

function completed(response: GraphQLResponse) {
  expect(errorCodes(response)).toEqual([]);
  return response.data!.completeSocialLogin;
}

const identitiesOf = (userId: string) => server().database.identity.count({ where: { userId } });
const auditedKinds = async (userId: string) =>
  (await server().database.securityEvent.findMany({ where: { userId }, select: { kind: true } })).map(
    (event) => event.kind,
  );
const pendingMailsOf = (userId: string) =>
  server().database.outboxDelivery.count({ where: { status: "pending", message: { userId, type: "mail" } } });

/** The identity linked to the viewer by its own `linkIdentity` flow. */
async function linkedIdentity(user: SignedUp, email = newEmail("linked")) {
  const login = person(email, false);
  const linked = completed(await signInAs(login, user.accessToken));
  return { login, id: linked.user.identities[0].id as string };
}

describe("an identity's notice", () => {
  it("is queued with the link, the automatic link and the unlink: none waits for a hung mail server, all go out once it answers", async () => {
    const user = await signUp(server(), "notice");
    // An address the account proved, for the provider's sign-in to link automatically.
    await server().database.user.update({
      where: { id: user.id },
      data: { emailVerifiedAt: new Date(), passwordTentative: false },
    });
    await outboxSettled(server());
    await mailServer("hung");
    try {
      const { id } = await linkedIdentity(user);
      expect(completed(await signInAs(person(user.account.email, true))).user.id).toBe(user.id);
      const unlinked = await server().request(identityDocuments.unlink, { id }, { token: user.accessToken });
      expect(unlinked.data).toEqual({ unlinkIdentity: true });
      // The worker is talking to the hung server meanwhile.
      await expect.poll(() => (mail as HungMailServer).connections).toBeGreaterThan(0);
      expect(await pendingMailsOf(user.id)).toBe(3);
    } finally {
      await mailServer("working");
    }
    await outboxSettled(server());
    const subjects = (mail as TestMailServer).to(user.account.email).map((message) => message.subject);
    expect(subjects.sort()).toEqual([linkedNotice, linkedNotice, unlinkedNotice].sort());
    expect(await identitiesOf(user.id)).toBe(1);
  });

  it("that cannot be queued takes the change with it: no identity linked, by the owner or by address, none unlinked", async () => {
    const user = await signUp(server(), "unqueued");
    await server().database.user.update({
      where: { id: user.id },
      data: { emailVerifiedAt: new Date(), passwordTentative: false },
    });
    const owners = person(newEmail("never"), false);
    const byAddress = person(user.account.email, true);
    await failCommitsWriting(server(), "mail", async () => {
      expect(errorCodes(await signInAs(owners, user.accessToken))).toEqual(["INTERNAL_SERVER_ERROR"]);
      expect(errorCodes(await signInAs(byAddress))).toEqual(["INTERNAL_SERVER_ERROR"]);
    });
    expect(await identitiesOf(user.id)).toBe(0);
    expect(await auditedKinds(user.id)).not.toContain("identity_linked");
    // Neither person signs in to the account: the one without a vouched address gets an account of its own.
    expect(completed(await signInAs(owners)).user.id).not.toBe(user.id);

    const { id } = await linkedIdentity(user);
    await failCommitsWriting(server(), "mail", async () => {
      const refused = await server().request(identityDocuments.unlink, { id }, { token: user.accessToken });
      expect(errorCodes(refused)).toEqual(["INTERNAL_SERVER_ERROR"]);
    });
    expect(await identitiesOf(user.id)).toBe(1);
    expect(await auditedKinds(user.id)).not.toContain("identity_unlinked");
    // The session that asked is not ended by a change that did not happen.
    expect(errorCodes(await server().request(identityDocuments.me, {}, { token: user.accessToken }))).toEqual([]);
  });
});

describe("an account made by a first sign-in", () => {
  it("emits user.registered, then user.email_verified when the provider vouched for the address, delivered signed", async () => {
    const email = newEmail("made");
    const made = completed(await signInAs(person(email, true)));
    expect(made.user).toMatchObject({ email, emailVerified: true, hasPassword: false });
    expect(await eventTypesOf(server(), made.user.id)).toEqual(["user.registered", "user.email_verified"]);
    await receiver.waitUntil(() => receiver.eventsOf(made.user.id).length === 2);
    const deliveries = receiver.accepted().filter((entry) => entry.event.userId === made.user.id);
    expect(deliveries.map((entry) => entry.verified)).toEqual([true, true]);
    expect(deliveries.map((entry) => entry.event)).toEqual([
      expect.objectContaining({
        type: "user.registered",
        data: { username: made.user.username, email, createdAt: expect.any(String) },
      }),
      expect.objectContaining({ type: "user.email_verified", data: { email } }),
    ]);
    // Signing in again is no registration: nothing more is emitted.
    const again = await signInAs(idp.addAccount({ email, emailVerified: true }));
    expect(errorCodes(again)).toEqual([]);
    expect(await eventTypesOf(server(), made.user.id)).toEqual(["user.registered", "user.email_verified"]);
  });

  it("emits user.registered alone when the provider did not vouch for the address", async () => {
    const made = completed(await signInAs(person(newEmail("unvouched"), false)));
    expect(made.user.emailVerified).toBe(false);
    expect(await eventTypesOf(server(), made.user.id)).toEqual(["user.registered"]);
  });

  it("is not made when its event cannot be written: no account, no identity, no session", async () => {
    const email = newEmail("unwritten");
    const login = person(email, true);
    await failCommitsWriting(server(), "user.registered", async () => {
      expect(errorCodes(await signInAs(login))).toEqual(["INTERNAL_SERVER_ERROR"]);
    });
    expect(await server().database.user.count({ where: { email } })).toBe(0);
    expect(await server().database.identity.count({ where: { subject: login } })).toBe(0);
    // The person tries again: the account is made then, with its events once.
    const made = completed(await signInAs(login));
    expect(await eventTypesOf(server(), made.user.id)).toEqual(["user.registered", "user.email_verified"]);
  });

  it("racing first sign-ins of one person: one account, one user.registered (8 trials of 4)", async () => {
    for (let trial = 0; trial < 8; trial++) {
      const vouched = trial % 2 === 0;
      const login = person(newEmail("race"), vouched);
      const flows = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const started = await app.start("company");
          return { ...started, callbackUrl: await idp.signIn(started.authorizationUrl, login) };
        }),
      );
      const answers = await Promise.all(flows.map((flow) => app.complete(flow.flowId, flow.callbackUrl)));
      const userIds = new Set(answers.map((answer) => completed(answer).user.id as string));
      expect(userIds.size).toBe(1);
      const [userId] = [...userIds];
      const expected = vouched ? ["user.registered", "user.email_verified"] : ["user.registered"];
      expect(await eventTypesOf(server(), userId!)).toEqual(expected);
    }
  });
});

describe("deleting an account that holds identities", () => {
  it("emits user.deleted, delivered signed, and leaves no identity that signs in to it", async () => {
    const user = await signUp(server(), "deleted");
    const first = await linkedIdentity(user);
    const second = await linkedIdentity(user);
    const deleted = await server().request(
      lifecycle.deleteAccount,
      { currentPassword: user.account.password },
      { token: user.accessToken },
    );
    expect(deleted.data).toEqual({ deleteAccount: true });
    expect(await eventTypesOf(server(), user.id)).toEqual(["user.registered", "user.deleted"]);
    await receiver.waitUntil(() => receiver.eventsOf(user.id).some((event) => event.type === "user.deleted"));
    const delivery = receiver
      .accepted()
      .find((entry) => entry.event.userId === user.id && entry.event.type === "user.deleted");
    expect(delivery).toMatchObject({ verified: true, event: { data: {} } });
    expect(await identitiesOf(user.id)).toBe(0);
    // Each person now makes an account of their own, which tells of itself as new.
    for (const { login } of [first, second]) {
      const made = completed(await signInAs(login));
      expect(made.user.id).not.toBe(user.id);
      expect(await eventTypesOf(server(), made.user.id)).toEqual(["user.registered"]);
    }
  });

  it("does not happen when its event cannot be written: the account keeps its identities", async () => {
    const user = await signUp(server(), "kept");
    const { login } = await linkedIdentity(user);
    await failCommitsWriting(server(), "user.deleted", async () => {
      const refused = await server().request(
        lifecycle.deleteAccount,
        { currentPassword: user.account.password },
        { token: user.accessToken },
      );
      expect(errorCodes(refused)).toEqual(["INTERNAL_SERVER_ERROR"]);
    });
    expect(await eventTypesOf(server(), user.id)).toEqual(["user.registered"]);
    expect(await identitiesOf(user.id)).toBe(1);
    expect(completed(await signInAs(login)).user.id).toBe(user.id);
  });

  it("racing an unlink and a link of its identities: one user.deleted, no identity left, every answer a success or a refusal (20 trials)", async () => {
    const outcomes: string[] = [];
    for (let trial = 0; trial < 20; trial++) {
      const user = await signUp(server(), "race");
      const { id } = await linkedIdentity(user);
      const late = person(newEmail("late"), false);
      const started = await app.start("company", user.accessToken);
      const callbackUrl = await idp.signIn(started.authorizationUrl, late);
      const token = { token: user.accessToken };
      const answers: GraphQLResponse[] = await Promise.all([
        server().request(lifecycle.deleteAccount, { currentPassword: user.account.password }, token),
        server().request(identityDocuments.unlink, { id }, token),
        app.complete(started.flowId, callbackUrl, user.accessToken),
      ]);
      // An unlink is a credential change: a deletion whose password check came before it is refused, and asked again.
      if (answers[0]!.errors) {
        expect(errorCodes(answers[0]!)).toEqual(["INVALID_CREDENTIALS"]);
        outcomes.push("deletion asked again");
        const again = await server().request(
          lifecycle.deleteAccount,
          { currentPassword: user.account.password },
          token,
        );
        expect(again.data).toEqual({ deleteAccount: true });
      }
      // Done before the deletion, or refused after it (the session ended with the account); an unlink
      // that starts once the account is gone finds no such identity (false).
      const [, unlink, link] = answers as [GraphQLResponse, GraphQLResponse, GraphQLResponse];
      if (unlink.errors) expect(errorCodes(unlink)).toEqual(["UNAUTHENTICATED"]);
      if (link.errors) expect(errorCodes(link)).toEqual(["UNAUTHENTICATED"]);
      const unlinked = !unlink.errors && unlink.data!.unlinkIdentity === true;
      outcomes.push(unlink.errors ? "refused" : unlinked ? "unlinkIdentity" : "nothing to unlink");
      outcomes.push(link.errors ? "refused" : "completeSocialLogin");
      const done = Number(unlinked) + Number(!link.errors);
      const types = await eventTypesOf(server(), user.id);
      expect(types.filter((type) => type === "user.deleted")).toHaveLength(1);
      expect(types.at(-1)).toBe("user.deleted");
      expect(await identitiesOf(user.id)).toBe(0);
      // The verification link, the first link's notice, and one notice per change done before the deletion.
      const mails = (await outboxMessagesOf(server(), user.id)).filter((message) => message.type === "mail");
      expect(mails).toHaveLength(2 + done);
    }
    console.log(`deleteAccount vs unlinkIdentity and a link's completion: ${outcomes.sort().join(", ")}`);
  });
});
