import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCodes, type GraphQLResponse } from "../harness/graphql.js";
import { HungMailServer, TestMailServer } from "../harness/mail-servers.js";
import { newWebhookSecret, WebhookReceiver } from "../harness/webhooks.js";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { signUp, type SignedUp } from "./helpers/accounts.js";
import { eventTypesOf, failCommitsWriting, outboxSettled } from "./helpers/outbox.js";
import {
  beginRegistration,
  passkeyDocuments,
  passkeySettings,
  registerPasskey,
  signInWithPasskey,
  TestAuthenticator,
} from "./helpers/passkeys.js";
import { useTestServer } from "./helpers/test-server.js";

// Passkeys and the outbox: the notice of a passkey added or removed is mail like any other, queued
// in the transaction of the change; deleting an account that holds passkeys tells other services
// as every deletion does.
const secret = newWebhookSecret();
let mail: TestMailServer | HungMailServer;
let mailPort: number;
let receiver: WebhookReceiver;
beforeAll(async () => {
  const working = await TestMailServer.start();
  [mail, mailPort, receiver] = [working, working.port, await WebhookReceiver.start(secret)];
});
afterAll(async () => {
  await Promise.all([mail?.close(), receiver?.close()]);
});

const server = useTestServer({
  config: {
    ...passkeySettings,
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

/** The mail server on the same port: a hung one, or a working one again. */
async function mailServer(kind: "hung" | "working"): Promise<void> {
  await mail.close();
  mail = kind === "hung" ? await HungMailServer.start(mailPort) : await TestMailServer.start({ port: mailPort });
}

const as = (user: SignedUp) => ({ token: user.accessToken });
const passkeysOf = (userId: string) => server().database.passkey.count({ where: { userId } });
const auditedKinds = async (userId: string) =>
  (await server().database.securityEvent.findMany({ where: { userId }, select: { kind: true } })).map(
    (event) => event.kind,
  );
const pendingMailsOf = (userId: string) =>
  server().database.outboxDelivery.count({ where: { status: "pending", message: { userId, type: "mail" } } });

async function finishRegistration(user: SignedUp, authenticator: TestAuthenticator, name: string) {
  const { challengeId, options } = await beginRegistration(server(), user.accessToken);
  const response = authenticator.create(options);
  return server().request(passkeyDocuments.finishRegistration, { challengeId, response, name }, as(user));
}

describe("a passkey's notice", () => {
  it("is queued with the addition and the removal: neither waits for a hung mail server, both go out once it answers", async () => {
    const user = await signUp(server(), "notice");
    await outboxSettled(server());
    await mailServer("hung");
    try {
      await registerPasskey(server(), user.accessToken, new TestAuthenticator(), "Kept");
      const dropped = await registerPasskey(server(), user.accessToken, new TestAuthenticator(), "Dropped");
      const removed = await server().request(passkeyDocuments.remove, { id: dropped.id }, as(user));
      expect(removed.data).toEqual({ removePasskey: true });
      // The worker is talking to the hung server meanwhile.
      await expect.poll(() => (mail as HungMailServer).connections).toBeGreaterThan(0);
      expect(await pendingMailsOf(user.id)).toBe(3);
    } finally {
      await mailServer("working");
    }
    await outboxSettled(server());
    const working = mail as TestMailServer;
    const subjects = working.to(user.account.email).map((message) => message.subject);
    expect(subjects.sort()).toEqual([
      "A passkey was added to your account",
      "A passkey was added to your account",
      "A passkey was removed from your account",
    ]);
    expect(await passkeysOf(user.id)).toBe(1);
  });

  it("that cannot be queued takes the change with it: no passkey added, none removed", async () => {
    const user = await signUp(server(), "unqueued");
    const authenticator = new TestAuthenticator();
    await failCommitsWriting(server(), "mail", async () => {
      expect(errorCodes(await finishRegistration(user, authenticator, "Never"))).toEqual(["INTERNAL_SERVER_ERROR"]);
    });
    expect(await passkeysOf(user.id)).toBe(0);
    expect(await auditedKinds(user.id)).not.toContain("passkey_added");
    expect(errorCodes(await signInWithPasskey(server(), authenticator))).toEqual(["INVALID_PASSKEY"]);

    const passkey = await registerPasskey(server(), user.accessToken, authenticator, "Stays");
    await failCommitsWriting(server(), "mail", async () => {
      const refused = await server().request(passkeyDocuments.remove, { id: passkey.id }, as(user));
      expect(errorCodes(refused)).toEqual(["INTERNAL_SERVER_ERROR"]);
    });
    expect(await passkeysOf(user.id)).toBe(1);
    expect(await auditedKinds(user.id)).not.toContain("passkey_removed");
    expect((await signInWithPasskey(server(), authenticator)).errors).toBeUndefined();
  });
});

describe("deleting an account that holds passkeys", () => {
  it("emits user.deleted, delivered signed, and leaves no passkey that signs in", async () => {
    const user = await signUp(server(), "deleted");
    const authenticators = [new TestAuthenticator(), new TestAuthenticator()];
    for (const authenticator of authenticators) await registerPasskey(server(), user.accessToken, authenticator);
    const deleted = await server().request(
      lifecycle.deleteAccount,
      { currentPassword: user.account.password },
      as(user),
    );
    expect(deleted.data).toEqual({ deleteAccount: true });

    expect(await eventTypesOf(server(), user.id)).toEqual(["user.registered", "user.deleted"]);
    await receiver.waitUntil(() => receiver.eventsOf(user.id).some((event) => event.type === "user.deleted"));
    const delivery = receiver
      .accepted()
      .find((entry) => entry.event.userId === user.id && entry.event.type === "user.deleted");
    expect(delivery).toMatchObject({ verified: true, event: { data: {} } });
    expect(await passkeysOf(user.id)).toBe(0);
    for (const authenticator of authenticators) {
      expect(errorCodes(await signInWithPasskey(server(), authenticator))).toEqual(["INVALID_PASSKEY"]);
    }
  });

  it("does not happen when its event cannot be written: the account keeps its passkeys", async () => {
    const user = await signUp(server(), "kept");
    const authenticator = new TestAuthenticator();
    await registerPasskey(server(), user.accessToken, authenticator);
    await failCommitsWriting(server(), "user.deleted", async () => {
      const refused = await server().request(
        lifecycle.deleteAccount,
        { currentPassword: user.account.password },
        as(user),
      );
      expect(errorCodes(refused)).toEqual(["INTERNAL_SERVER_ERROR"]);
    });
    expect(await eventTypesOf(server(), user.id)).toEqual(["user.registered"]);
    expect(await passkeysOf(user.id)).toBe(1);
    expect((await signInWithPasskey(server(), authenticator)).errors).toBeUndefined();
  });

  it("racing a passkey's removal and addition: one user.deleted, no passkey left, every answer a success or a refusal (10 trials)", async () => {
    const outcomes: string[] = [];
    for (let trial = 0; trial < 10; trial++) {
      const user = await signUp(server(), "race");
      const passkey = await registerPasskey(server(), user.accessToken, new TestAuthenticator());
      const { challengeId, options } = await beginRegistration(server(), user.accessToken);
      const response = new TestAuthenticator().create(options);
      const answers: GraphQLResponse[] = await Promise.all([
        server().request(lifecycle.deleteAccount, { currentPassword: user.account.password }, as(user)),
        server().request(passkeyDocuments.remove, { id: passkey.id }, as(user)),
        server().request(passkeyDocuments.finishRegistration, { challengeId, response, name: "Late" }, as(user)),
      ]);
      expect(answers[0]!.data).toEqual({ deleteAccount: true });
      // Done before the deletion, or refused after it (the session ended with the account).
      for (const answer of answers.slice(1)) {
        if (answer.errors) expect(errorCodes(answer)).toEqual(["UNAUTHENTICATED"]);
        outcomes.push(answer.errors ? "refused" : JSON.stringify(answer.data).slice(0, 40));
      }
      const types = await eventTypesOf(server(), user.id);
      expect(types.filter((type) => type === "user.deleted")).toHaveLength(1);
      expect(types.at(-1)).toBe("user.deleted");
      expect(await passkeysOf(user.id)).toBe(0);
    }
    console.log(`deleteAccount vs removePasskey and finishPasskeyRegistration: ${outcomes.sort().join(", ")}`);
  });
});
