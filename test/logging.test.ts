import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { mutations } from "../harness/graphql.js";
import { capturedLogger } from "./helpers/log.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

const { logger, lines } = capturedLogger("trace");

let database: TestDatabase;
let server: TestServer;
beforeAll(async () => {
  database = await createTestDatabase();
  server = await startTestServer({ databaseUrl: database.url, logger });
});
afterAll(async () => {
  await server.close();
  await database.drop();
});

it("never logs a password, a password hash or a token, even at trace level", async () => {
  const account = newAccount();
  const registered = (await server.request(mutations.register, { input: account })).data!.register;
  const login = (
    await server.request(mutations.login, { input: { usernameOrEmail: account.username, password: account.password } })
  ).data!.login;
  await server.request(mutations.me, {}, { token: login.accessToken });
  await server.request(mutations.login, {
    input: { usernameOrEmail: account.username, password: `${account.password}-wrong` },
  });
  await server.request(`mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }`, {
    t: login.refreshToken,
  });
  // An error that reaches the logger: a request the schema cannot answer.
  await server.request(mutations.me, {}, { token: `${login.accessToken}tampered` });
  await server.request("{ nonsense }");
  const user = await server.database.user.findUniqueOrThrow({ where: { id: registered.user.id } });

  const secrets = [
    account.password,
    user.passwordHash,
    registered.accessToken,
    registered.refreshToken,
    login.accessToken,
    login.refreshToken,
    login.accessToken.split(".")[2]!, // a signature alone identifies the token
  ];
  expect(lines.length).toBeGreaterThan(0);
  const log = lines.join("");
  for (const secret of secrets) expect(log).not.toContain(secret);
});
