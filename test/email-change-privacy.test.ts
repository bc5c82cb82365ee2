import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleMutations as lifecycle } from "./helpers/account-lifecycle.js";
import { admin, signUp, type SignedUp } from "./helpers/accounts.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import { linkToken, TestMailServer, withMailServer } from "./helpers/mail.js";
import { outboxSettled } from "./helpers/outbox.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

// changeEmail must not tell its caller whether an address has an account: a taken address is
// answered, mailed, limited and replaces earlier links exactly as a free one; only its owner hears.
const perHour = 4;
let mail: TestMailServer;
beforeAll(async () => {
  mail = await TestMailServer.start();
});
afterAll(() => mail?.close());

const server = useTestServer({ config: withMailServer(() => mail, { MAIL_REQUESTS_PER_HOUR: String(perHour) }) });

async function account(prefix = "privacy"): Promise<SignedUp> {
  const signedUp = await signUp(server(), prefix);
  await mail.waitFor(signedUp.account.email);
  return signedUp;
}

const changeEmail = (requester: SignedUp, newEmail: string) =>
  server().request(
    lifecycle.changeEmail,
    { newEmail, currentPassword: requester.account.password },
    { token: requester.accessToken },
  );

/** Everything the requester can look at afterwards, apart from mailboxes: its account and its event log. */
async function requesterView(requester: SignedUp) {
  const me = await server().request(lifecycle.meVerified, {}, { token: requester.accessToken });
  const events = await server().request(admin.securityEvents, {}, { token: requester.accessToken });
  return {
    me: me.data,
    events: events.data!.securityEvents.edges.map((edge: { node: { kind: string } }) => edge.node.kind),
  };
}

const freeAddress = () => `free-${newAccount().email}`;

describe("changeEmail to an address another account has", () => {
  it("answers exactly as for a free address; the owner gets a notice without a link, the requester the same notice either way", async () => {
    const requester = await account();
    const owner = await account("owner");
    const free = freeAddress();
    const before = await requesterView(requester);

    const taken = await changeEmail(requester, owner.account.email.toUpperCase());
    const takenNotice = await mail.waitFor(requester.account.email, 2);
    const ownerNotice = await mail.waitFor(owner.account.email, 2);
    // A pending change, as for a free address, whose token was never sent to anyone.
    expect(
      await server().database.accountToken.count({ where: { userId: requester.id, purpose: "change_email" } }),
    ).toBe(1);
    expect(await requesterView(requester)).toEqual(before);

    const answered = await changeEmail(requester, free);
    const freeNotice = await mail.waitFor(requester.account.email, 3);
    const confirmation = await mail.waitFor(free);
    expect(taken).toEqual(answered);
    expect(taken).toEqual({ status: 200, data: { changeEmail: true } });
    expect(await requesterView(requester)).toEqual(before);

    // The requester's own mailbox gets the same notice, only the address it names differs.
    expect(takenNotice.subject).toBe("Your e-mail address is about to change");
    expect(() => linkToken(takenNotice, "verify-email")).toThrow();
    expect(takenNotice.text.replace(owner.account.email, "ADDRESS")).toBe(freeNotice.text.replace(free, "ADDRESS"));
    expect(takenNotice.html.replace(owner.account.email, "ADDRESS")).toBe(freeNotice.html.replace(free, "ADDRESS"));
    expect(confirmation.subject).toBe("Confirm your new e-mail address");

    // The owner learns that someone tried, not who, and gets nothing to click.
    expect(ownerNotice.subject).toBe("Someone tried to use your e-mail address");
    expect(ownerNotice.text).toContain(`Hello ${owner.account.username},`);
    expect(() => linkToken(ownerNotice, "verify-email")).toThrow();
    for (const text of [ownerNotice.text, ownerNotice.html]) {
      expect(text).not.toContain(requester.account.email);
      expect(text).not.toContain(requester.account.username);
    }
    expect(mail.to(owner.account.email)).toHaveLength(2);
    const stored = await server().database.user.findUniqueOrThrow({ where: { id: owner.id } });
    expect(stored).toMatchObject({ email: owner.account.email, emailVerifiedAt: null });
    expect(await server().database.accountToken.count({ where: { userId: owner.id, purpose: "change_email" } })).toBe(
      0,
    );
  });

  it("replaces the requester's pending link, as a request for a free address does", async () => {
    const requester = await account();
    const owner = await account("owner");
    for (const next of [owner.account.email, freeAddress()]) {
      const pending = freeAddress();
      await changeEmail(requester, pending);
      const token = linkToken(await mail.waitFor(pending), "verify-email");
      expect((await changeEmail(requester, next)).data).toEqual({ changeEmail: true });
      expect(errorCodes(await server().request(lifecycle.verifyEmail, { token }))).toEqual(["INVALID_TOKEN"]);
    }
  });

  it("counts against the requester's mail limit as a free address does: RATE_LIMITED past it, whichever comes next, nothing mailed", async () => {
    const owner = await account("owner");
    for (const order of [
      ["taken", "free"],
      ["free", "taken"],
    ] as const) {
      const requester = await account();
      const addresses = { taken: owner.account.email, free: "" };
      for (let request = 0; request < perHour; request++) {
        addresses.free = freeAddress();
        expect((await changeEmail(requester, addresses[order[request % 2]!])).data).toEqual({ changeEmail: true });
      }
      await outboxSettled(server());
      const mailed = mail.received.length;
      for (const kind of order) {
        const limited = await changeEmail(requester, kind === "taken" ? owner.account.email : freeAddress());
        expect(errorCodes(limited)).toEqual(["RATE_LIMITED"]);
        expect(limited.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
      }
      await outboxSettled(server());
      expect(mail.received.length).toBe(mailed);
    }
  });

  it("counts against the address's limit, taken or free: one address is mailed at most MAIL_REQUESTS_PER_HOUR times, from any accounts", async () => {
    const owner = await account("owner");
    for (const address of [owner.account.email, freeAddress()]) {
      const answers: string[][] = [];
      for (let request = 0; request <= perHour; request++)
        answers.push(errorCodes(await changeEmail(await account(), address)));
      expect(answers).toEqual([...Array.from({ length: perHour }, () => []), ["RATE_LIMITED"]]);
    }
  });
});

describe("a confirmation link whose address was registered after the request", () => {
  const server = useTestServer({ config: withMailServer(() => mail, { MAIL_REQUESTS_PER_HOUR: "100" }) });
  const changeEmail = (requester: SignedUp, newEmail: string) =>
    server().request(
      lifecycle.changeEmail,
      { newEmail, currentPassword: requester.account.password },
      { token: requester.accessToken },
    );

  it("answers EMAIL_TAKEN and changes nothing, however the registration and the confirmation race (10 trials)", async () => {
    const outcomes = { confirmed: 0, registered: 0 };
    for (let trial = 0; trial < 10; trial++) {
      const requester = await signUp(server(), "race");
      const wanted = freeAddress();
      await changeEmail(requester, wanted);
      const token = linkToken(await mail.waitFor(wanted), "verify-email");
      const [confirmed, registered] = await Promise.all([
        server().request(lifecycle.verifyEmail, { token }),
        server().request(mutations.register, { input: { ...newAccount("race"), email: wanted } }),
      ]);
      const holders = await server().database.user.findMany({ where: { email: wanted }, select: { id: true } });
      expect(holders).toHaveLength(1);
      if (holders[0]!.id === requester.id) {
        outcomes.confirmed++;
        expect(confirmed.data).toEqual({ verifyEmail: true });
        expect(errorCodes(registered)).toEqual(["EMAIL_TAKEN"]);
      } else {
        outcomes.registered++;
        expect(registered.errors).toBeUndefined();
        expect(errorCodes(confirmed)).toEqual(["EMAIL_TAKEN"]);
        const me = await server().request(lifecycle.meVerified, {}, { token: requester.accessToken });
        expect(me.data!.me.email).toBe(requester.account.email);
        // Still EMAIL_TAKEN when followed again: the link never moves the address.
        expect(errorCodes(await server().request(lifecycle.verifyEmail, { token }))).toEqual(["EMAIL_TAKEN"]);
      }
    }
    console.log(
      `confirmation vs registration of the same address: ${outcomes.confirmed} confirmed first, ${outcomes.registered} registered first`,
    );
  });
});
