import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EncryptionKeys } from "../src/auth/encryption-keys.js";
import { exportPrivateJwks, generateSigningKey } from "../src/auth/signing-keys.js";
import { amplificationBody } from "../bench/phases/hardening.js";
import { buildSubgraph, residentMegabytes } from "../bench/processes.js";
import { newAccount } from "../harness/accounts.js";
import { useTestDatabase } from "./helpers/database.js";
import { testRedisUrl } from "./helpers/environment.js";
import { graphql, mutations } from "../harness/graphql.js";
import { TestMailServer } from "./helpers/mail.js";
import { freePort, startProcess, type ServerProcess } from "../harness/process.js";

// The compiled build as production runs it, in a process of its own: its memory, its signals.
const database = useTestDatabase();
let build: Awaited<ReturnType<typeof buildSubgraph>>;
let mail: TestMailServer;
let server: ServerProcess;
let baseUrl: string;
let metricsUrl: string;
beforeAll(async () => {
  build = await buildSubgraph();
  mail = await TestMailServer.start();
  const key = await generateSigningKey();
  const [port, metricsPort] = [await freePort(), await freePort()];
  baseUrl = `http://127.0.0.1:${port}`;
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  server = await startProcess(
    "node",
    [`${build.dir}/main.js`],
    {
      NODE_ENV: "production",
      DATABASE_URL: database().url,
      REDIS_URL: testRedisUrl,
      REDIS_KEY_PREFIX: `production-process:${port}:`,
      JWT_PRIVATE_KEYS: await exportPrivateJwks([key]),
      ENCRYPTION_KEYS: EncryptionKeys.generate(),
      SMTP_URL: mail.url,
      MAIL_FROM: "no-reply@example.com",
      APP_URL: "https://app.example.com",
      WEBAUTHN_RP_ID: "app.example.com",
      WEBAUTHN_ORIGINS: "https://app.example.com",
      HOST: "127.0.0.1",
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      SHUTDOWN_DRAIN_PERIOD: "1s",
      LOGIN_ATTEMPTS_PER_WINDOW: "100000",
      // Every login of the SIGTERM test waits its turn for argon2id: they are the requests in flight.
      PASSWORD_HASHING_QUEUE_LIMIT: "500",
      LOG_LEVEL: "warn",
    },
    `${baseUrl}/health/ready`,
  );
}, 180_000);
afterAll(async () => {
  await server?.stop();
  await build?.remove();
  await mail?.close();
});

/** A figure of the server's /metrics (the sum over its labels). */
async function metric(name: string, labels = ""): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const pattern = new RegExp(`^${name}(\\{[^}]*${labels}[^}]*\\})? (\\S+)$`, "gm");
  return [...text.matchAll(pattern)].reduce((sum, match) => sum + Number(match[2]), 0);
}

const post = (body: string, token?: string) =>
  fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });

it("serves /metrics on METRICS_PORT only", async () => {
  expect((await fetch(`${baseUrl}/metrics`)).status).toBe(404);
  const metrics = await fetch(metricsUrl);
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toContain("http_requests_total");
});

it("refuses eight 100 000-alias requests at once before running them, memory steady, other clients served", async () => {
  const account = newAccount();
  const { accessToken } = (await graphql(`${baseUrl}/graphql`, mutations.register, { input: account })).data!.register;
  const rssBefore = await residentMegabytes(server.child.pid!);

  const [burst, me] = await Promise.all([
    Promise.all(
      Array.from({ length: 8 }, async () => {
        const response = await post(amplificationBody);
        return {
          status: response.status,
          body: (await response.json()) as { errors: { extensions: { code: string } }[] },
        };
      }),
    ),
    graphql(`${baseUrl}/graphql`, mutations.me, {}, { token: accessToken }),
  ]);

  for (const { status, body } of burst) {
    expect(status).toBe(400);
    expect(body.errors.map((error) => error.extensions.code)).toEqual(["TOKEN_LIMIT_EXCEEDED"]);
  }
  expect(me.errors).toBeUndefined();
  expect(me.data!.me.username).toBe(account.username);
  expect((await residentMegabytes(server.child.pid!)) - rssBefore).toBeLessThan(50);
  expect(server.output()).not.toMatch(/unexpected error|"err"/);
});

describe("SIGTERM", () => {
  it("turns readiness 503 at once, answers every request in flight and during the drain, then exits 0", async () => {
    const account = newAccount();
    const { accessToken, user } = (await graphql(`${baseUrl}/graphql`, mutations.register, { input: account })).data!
      .register;
    const requests = [
      JSON.stringify({ query: mutations.me }),
      JSON.stringify({
        query: mutations.login,
        variables: { input: { usernameOrEmail: account.username, password: account.password } },
      }),
      JSON.stringify({
        query: "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id } } }",
        variables: { r: [{ __typename: "User", id: user.id }] },
      }),
      JSON.stringify({ query: "{ __typename }" }),
    ];
    const answeredBefore = await metric("http_requests_total", 'route="/graphql"');
    const inFlight = Array.from({ length: 200 }, async (_, index) => {
      const response = await post(requests[index % requests.length]!, accessToken);
      return {
        status: response.status,
        body: (await response.json()) as { data?: unknown; errors?: { extensions: { code?: string } }[] },
      };
    });
    // The signal comes once the server has received all 200 (a connection still in the kernel's
    // accept queue is not yet the server's), while the logins still wait for argon2id.
    let inFlightAtSignal = 0;
    await expect
      .poll(
        async () => {
          inFlightAtSignal = await metric("http_requests_in_flight");
          return (await metric("http_requests_total", 'route="/graphql"')) - answeredBefore + inFlightAtSignal;
        },
        { interval: 5, timeout: 20_000 },
      )
      .toBeGreaterThanOrEqual(200);
    server.child.kill("SIGTERM");
    expect(inFlightAtSignal).toBeGreaterThan(0);

    await expect
      .poll(async () => (await fetch(`${baseUrl}/health/ready`)).status, { interval: 20, timeout: 500 })
      .toBe(503);
    const duringDrain = await post(JSON.stringify({ query: "{ __typename }" }));
    expect(duringDrain.status).toBe(200);
    expect(duringDrain.headers.get("connection")).toBe("close");

    const answers = await Promise.all(inFlight);
    for (const { status, body } of answers) {
      expect(status).toBe(200);
      for (const error of body.errors ?? []) expect(error.extensions.code).toMatch(/^[A-Z_]+$/);
      expect(body.data ?? body.errors).toBeDefined();
    }
    expect(answers.filter(({ body }) => !body.errors).length).toBeGreaterThan(0);
    expect(await server.exited).toBe(0);
    expect(server.output()).not.toMatch(/unexpected error|shutdown step failed/);
  }, 60_000);
});
