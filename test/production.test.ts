import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EncryptionKeys } from "../src/auth/encryption-keys.js";
import { exportPrivateJwks, generateSigningKey, toSigningKeys } from "../src/auth/signing-keys.js";
import { useTestDatabase } from "./helpers/database.js";
import { testRedisUrl } from "./helpers/environment.js";
import { errorCodes } from "../harness/graphql.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const introspection = "{ __schema { queryType { name } } }";
const landingPage = (server: TestServer) => fetch(server.url, { headers: { accept: "text/html" } });

const database = useTestDatabase();

describe("in production", () => {
  let server: TestServer;
  beforeAll(async () => {
    const key = await generateSigningKey();
    server = await startTestServer({
      databaseUrl: database().url,
      signingKeys: toSigningKeys([key]),
      // The settings production requires; the server is given the same database and key directly.
      config: {
        NODE_ENV: "production",
        DATABASE_URL: database().url,
        REDIS_URL: testRedisUrl,
        JWT_PRIVATE_KEYS: await exportPrivateJwks([key]),
        ENCRYPTION_KEYS: EncryptionKeys.generate(),
        // Never contacted: no test here sends mail.
        SMTP_URL: "smtp://127.0.0.1:1",
        MAIL_FROM: "no-reply@example.com",
        APP_URL: "https://app.example.com",
        WEBAUTHN_RP_ID: "app.example.com",
        WEBAUTHN_ORIGINS: "https://app.example.com",
      },
    });
  });
  afterAll(() => server.close());

  it("refuses plain introspection but serves _service, which composition needs", async () => {
    const refused = await server.request(introspection);
    expect(refused.data).toBeUndefined();
    expect(errorCodes(refused)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);

    const service = await server.request("{ _service { sdl } }");
    expect(service.errors).toBeUndefined();
    expect(service.data!._service.sdl).toContain('type User\n  @key(fields: "id")');
  });

  it("serves no Sandbox landing page", async () => {
    const response = await landingPage(server);
    expect(response.headers.get("content-type")).not.toMatch(/text\/html/);
    expect(await response.text()).not.toMatch(/sandbox/i);
  });
});

describe("in development", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: database().url, config: { NODE_ENV: "development" } });
  });
  afterAll(() => server.close());

  it("serves the Apollo Sandbox landing page and introspection", async () => {
    const response = await landingPage(server);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/html/);
    expect(await response.text()).toMatch(/embeddable-sandbox/);

    const introspected = await server.request(introspection);
    expect(introspected.errors).toBeUndefined();
    expect(introspected.data!.__schema.queryType.name).toBe("Query");
  });
});
