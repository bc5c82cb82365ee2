import { expect, it } from "vitest";
import { createArgon2Hasher, owaspArgon2id } from "../src/auth/password-hasher.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

// Production parameters and one hashing slot, so that a burst outruns the hasher as it would in
// production; a short queue keeps the CPU this test spends small.
const queueLimit = 8;
const server = useTestServer({
  hasher: createArgon2Hasher(owaspArgon2id, 1, { maxWaiting: queueLimit, maxWaitMs: 1_000 }),
});

it("answers a burst of 400 registrations with accounts or a fast SERVICE_UNAVAILABLE, and serves a login that comes with it", async () => {
  const account = newAccount("steady");
  await server().app.services.accounts.register(account);
  const login = () =>
    server().request(mutations.login, { input: { usernameOrEmail: account.username, password: account.password } });

  const burst = Array.from({ length: 400 }, () => server().request(mutations.register, { input: newAccount("burst") }));
  const loginDuringBurst = login();
  const answers = await Promise.all(burst);

  const codes = answers.map((answer) => errorCodes(answer).join(",") || "ok");
  expect(new Set(codes)).toEqual(new Set(["ok", "SERVICE_UNAVAILABLE"]));
  expect(codes.filter((code) => code === "ok").length).toBeGreaterThan(queueLimit);
  for (const answer of answers.filter((answer) => answer.errors)) {
    expect(answer.errors![0]!.message).toBe("The service is temporarily unavailable. Try again later.");
  }
  // The login came in with the burst and was served: checks wait for one running hash, not behind the registrations.
  expect(errorCodes(await loginDuringBurst)).toEqual([]);
  expect(errorCodes(await login())).toEqual([]);
}, 120_000);
