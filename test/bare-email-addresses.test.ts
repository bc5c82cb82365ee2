import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { foldIdentifier } from "../src/users/identity.js";
import { signUp } from "./helpers/accounts.js";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { acceptedAddress, hostileAddress } from "./helpers/email-addresses.js";
import { errorCodes, mutations, type GraphQLResponse } from "../harness/graphql.js";
import { TestMailServer, withMailServer, type DeliveredMail } from "./helpers/mail.js";
import { outboxSettled } from "./helpers/outbox.js";
import { fastHasher, newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

// The address an account stores is the one its mail goes to, byte for byte: an address is only
// ever a bare one, and the mail library is handed it as a recipient it does not parse.
let mail: TestMailServer;
beforeAll(async () => {
  mail = await TestMailServer.start();
});
afterAll(() => mail?.close());

const server = useTestServer({ config: withMailServer(() => mail, { MAIL_REQUESTS_PER_HOUR: "100000" }) });

function expectRefused(response: GraphQLResponse, field: string): void {
  expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
  expect(response.errors![0]!.extensions!.field).toBe(field);
}

/** Every way a client names an address: registering, changing to it, asking for a reset. */
async function offer(email: string, signedIn: { accessToken: string; password: string }) {
  const account = newAccount("bare");
  const register = await server().request(mutations.register, { input: { ...account, email } });
  const change = await server().request(
    lifecycle.changeEmail,
    { newEmail: email, currentPassword: signedIn.password },
    { token: signedIn.accessToken },
  );
  const reset = await server().request(lifecycle.requestPasswordReset, { email });
  await server().app.services.passwordReset.settled();
  return { account, register, change, reset };
}

async function expectAllRefused(email: string, signedIn: { id: string; accessToken: string; password: string }) {
  const users = await server().database.user.count();
  // Mail goes out after its operation: what was queued before is delivered before counting.
  await outboxSettled(server());
  const mailed = mail.received.length;
  const { account, register, change, reset } = await offer(email, signedIn);
  expectRefused(register, "email");
  expectRefused(change, "newEmail");
  expectRefused(reset, "email");
  expect(await server().database.user.count()).toBe(users);
  expect(await server().database.user.count({ where: { username: account.username } })).toBe(0);
  expect(await server().database.accountToken.count({ where: { userId: signedIn.id, purpose: "change_email" } })).toBe(
    0,
  );
  await outboxSettled(server());
  expect(mail.received.slice(mailed)).toEqual([]);
}

async function signedInAccount() {
  const { id, account, accessToken } = await signUp(server(), "bare");
  await mail.waitFor(account.email);
  return { id, accessToken, password: account.password };
}

describe("addresses that are more than one bare address", () => {
  it("are refused with BAD_USER_INPUT by register, changeEmail and requestPasswordReset: nothing stored, nothing mailed", async () => {
    const signedIn = await signedInAccount();
    const shapes = [
      "X<evil@evil.example>",
      "X:evil@example.com",
      "X@example.com,evil",
      "X@example.com;evil",
      "X@example.com>",
      "a\u001bb@example.com",
      '"x@evil.example"@example.com',
      "x@example.com (x@evil.example)",
      // A-labels that decode to nothing valid.
      "x@xn--abc.com",
      "x@mail.xn--a.example",
    ];
    for (const shape of shapes) await expectAllRefused(shape, signedIn);
    expect(mail.received.flatMap((message) => message.envelopeTo).filter((to) => to.includes("evil"))).toEqual([]);
  });

  it("an address with NEL (U+0085) is BAD_USER_INPUT on its field, not a mail server's refusal", async () => {
    const signedIn = await signedInAccount();
    for (const shape of ["a\u0085b@example.com", "\u0085a@example.com", "a@example.com\u0085", "a@exa\u0085mple.com"]) {
      await expectAllRefused(shape, signedIn);
    }
  });

  it(`refuses generated hostile shapes (display names, comments, groups, lists, brackets, quotes, controls) everywhere`, async () => {
    const signedIn = await signedInAccount();
    await fc.assert(
      fc.asyncProperty(hostileAddress, (email) => expectAllRefused(email, signedIn)),
      { numRuns: 200 },
    );
  }, 120_000);
});

/** The raw To header of a message, as its bytes. */
function toHeader(message: DeliveredMail): Buffer {
  const line = message.parsed.headerLines.find((header) => header.key === "to")!.line;
  return Buffer.from(line, "latin1");
}

/** Waits until `count` messages arrived after the first `since`; those messages. */
async function arrived(since: number, count: number): Promise<DeliveredMail[]> {
  await expect
    .poll(() => mail.received.length - since, { timeout: 10_000, interval: 20 })
    .toBeGreaterThanOrEqual(count);
  return mail.received.slice(since);
}

describe("accepted addresses", () => {
  it("are stored folded and mailed exactly there: the envelope's RCPT TO and the To header are the stored address, byte for byte", async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(acceptedAddress, async (email) => {
        const mailed = mail.received.length;
        const account = newAccount("bare");
        const registered = await server().request(mutations.register, { input: { ...account, email } });
        expect(registered.errors, JSON.stringify(email)).toBeUndefined();
        const { accessToken, user } = registered.data!.register;
        const stored = (await server().database.user.findUniqueOrThrow({ where: { id: user.id } })).email;
        expect(stored).toBe(foldIdentifier(email));
        expect(user.email).toBe(stored);

        expect(
          (await server().request(lifecycle.requestEmailVerification, {}, { token: accessToken })).errors,
        ).toBeUndefined();
        expect((await server().request(lifecycle.requestPasswordReset, { email })).errors).toBeUndefined();
        await server().app.services.passwordReset.settled();
        const messages = await arrived(mailed, 3);
        expect(messages.map((message) => message.subject).sort()).toEqual([
          "Confirm your e-mail address",
          "Confirm your e-mail address",
          "Reset your password",
        ]);
        for (const message of messages) {
          expect(message.envelopeTo).toEqual([stored]);
          expect(toHeader(message).equals(Buffer.from(`To: ${stored}`)), toHeader(message).toString()).toBe(true);
        }
        runs++;
      }),
      { numRuns: 60 },
    );
    expect(runs).toBe(60);
  }, 120_000);
});

describe("a row stored before addresses had to be bare", () => {
  it("is never mailed: the mail that would go to it fails, and its address is refused as input", async () => {
    const legacy = "x<evil@evil.example>";
    const account = newAccount("legacy");
    const passwordHash = await fastHasher.hash(account.password);
    await server().database.$executeRaw`
      INSERT INTO users (id, email, username, username_key, password_hash, created_at, updated_at)
      VALUES (gen_random_uuid(), ${legacy}, ${account.username}, ${account.username}, ${passwordHash}, now(), now())`;
    const login = await server().request(mutations.login, {
      input: { usernameOrEmail: account.username, password: account.password },
    });
    const { accessToken } = login.data!.login;
    await outboxSettled(server());
    const mailed = mail.received.length;

    expect(errorCodes(await server().request(lifecycle.requestEmailVerification, {}, { token: accessToken }))).toEqual([
      "SERVICE_UNAVAILABLE",
    ]);
    expectRefused(await server().request(lifecycle.requestPasswordReset, { email: legacy }), "email");
    await server().app.services.passwordReset.settled();
    await outboxSettled(server());
    expect(mail.received.slice(mailed)).toEqual([]);
    expect(await server().database.accountToken.count({ where: { user: { username: account.username } } })).toBe(0);
  });
});
