import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "./helpers/database.js";
import { errorCodes, mutations } from "../harness/graphql.js";
import { newAccount, startTestServer, type TestServer } from "./helpers/server.js";

const database = useTestDatabase();

describe.each(["memory", "redis"] as const)("accounts over HTTP with the %s revocation store", (store) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: database().url, store });
  });
  afterAll(() => server.close());

  it("registers, logs in with username or e-mail, and answers me", async () => {
    const account = newAccount();
    const registered = await server.request(mutations.register, { input: account });
    expect(registered.errors).toBeUndefined();
    const payload = registered.data!.register;
    expect(payload.user).toMatchObject({ username: account.username, email: account.email });
    expect(new Date(payload.accessTokenExpiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(new Date(payload.refreshTokenExpiresAt).getTime()).toBeGreaterThan(
      new Date(payload.accessTokenExpiresAt).getTime(),
    );

    for (const usernameOrEmail of [account.username, account.email.toUpperCase()]) {
      const login = await server.request(mutations.login, { input: { usernameOrEmail, password: account.password } });
      expect(login.errors).toBeUndefined();
      expect(login.data!.login.user.id).toBe(payload.user.id);

      const me = await server.request(mutations.me, {}, { token: login.data!.login.accessToken });
      expect(me.errors).toBeUndefined();
      expect(me.data!.me).toEqual({
        id: payload.user.id,
        username: account.username,
        email: account.email,
        createdAt: payload.user.createdAt,
      });
    }
  });

  it("stores e-mail addresses normalized: a duplicate differing only in case is EMAIL_TAKEN", async () => {
    const account = newAccount();
    await server.request(mutations.register, { input: account });
    const duplicate = await server.request(mutations.register, {
      input: { ...newAccount(), email: `  ${account.email.toUpperCase()} ` },
    });
    expect(errorCodes(duplicate)).toEqual(["EMAIL_TAKEN"]);
    expect(duplicate.errors![0]!.extensions!.field).toBe("email");
  });

  it("folds e-mail addresses the same way everywhere: fullwidth and NFKC variants are one account", async () => {
    const toFullwidth = (text: string) =>
      text.replace(/[a-z0-9]/g, (c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0));
    const account = newAccount();
    const [local, domain] = account.email.split("@") as [string, string];
    // Fullwidth letters and digits; an upper-case fullwidth first letter between ideographic spaces.
    const variants = [
      `${toFullwidth(local)}@${domain}`,
      `\u3000${toFullwidth(local[0]!.toUpperCase())}${local.slice(1)}@${domain.toUpperCase()}\u3000`,
    ];
    const registered = await server.request(mutations.register, { input: { ...account, email: variants[0] } });
    expect(registered.errors).toBeUndefined();
    expect(registered.data!.register.user.email).toBe(account.email);
    for (const email of [account.email, ...variants]) {
      const duplicate = await server.request(mutations.register, { input: { ...newAccount(), email } });
      expect(errorCodes(duplicate)).toEqual(["EMAIL_TAKEN"]);
      const login = await server.request(mutations.login, {
        input: { usernameOrEmail: email, password: account.password },
      });
      expect(login.errors).toBeUndefined();
      expect(login.data!.login.user.id).toBe(registered.data!.register.user.id);
    }
    const ligature = newAccount();
    const withLigature = ligature.email.replace("@", "\uFB01@");
    const viaLigature = await server.request(mutations.register, { input: { ...ligature, email: withLigature } });
    expect(viaLigature.data!.register.user.email).toBe(ligature.email.replace("@", "fi@"));
    const login = await server.request(mutations.login, {
      input: { usernameOrEmail: ligature.email.replace("@", "FI@"), password: ligature.password },
    });
    expect(login.data!.login.user.id).toBe(viaLigature.data!.register.user.id);
  });

  it("treats usernames differing only in case as the same: USERNAME_TAKEN", async () => {
    const account = newAccount();
    await server.request(mutations.register, { input: account });
    const duplicate = await server.request(mutations.register, {
      input: { ...newAccount(), username: account.username.toUpperCase() },
    });
    expect(errorCodes(duplicate)).toEqual(["USERNAME_TAKEN"]);
  });

  it("rejects malformed input with BAD_USER_INPUT naming the field", async () => {
    const cases = [
      { input: { ...newAccount(), email: "not-an-address" }, field: "email" },
      { input: { ...newAccount(), username: "a" }, field: "username" },
      { input: { ...newAccount(), username: "has space" }, field: "username" },
    ];
    for (const { input, field } of cases) {
      const response = await server.request(mutations.register, { input });
      expect(errorCodes(response)).toEqual(["BAD_USER_INPUT"]);
      expect(response.errors![0]!.extensions!.field).toBe(field);
    }
    const login = await server.request(mutations.login, { input: { usernameOrEmail: "  ", password: "whatever1" } });
    expect(errorCodes(login)).toEqual(["BAD_USER_INPUT"]);
    expect(login.errors![0]!.extensions!.field).toBe("usernameOrEmail");
  });

  it("refuses weak passwords with WEAK_PASSWORD: too short, too long, too common", async () => {
    const astral = "😀".repeat(129); // 129 code points, 258 UTF-16 units
    for (const password of ["short7!", "x".repeat(129), astral, "password123", "qwertyuiop"]) {
      const response = await server.request(mutations.register, { input: { ...newAccount(), password } });
      expect(errorCodes(response), password.slice(0, 12)).toEqual(["WEAK_PASSWORD"]);
    }
    const longest = await server.request(mutations.register, {
      input: { ...newAccount(), password: "😀".repeat(128) },
    });
    expect(longest.errors).toBeUndefined();
  });

  it("answers every login failure with INVALID_CREDENTIALS", async () => {
    const account = newAccount();
    await server.request(mutations.register, { input: account });
    const attempts = [
      { usernameOrEmail: account.username, password: "wrong password" },
      { usernameOrEmail: `nobody-${account.username}`, password: account.password },
      { usernameOrEmail: `nobody-${account.email}`, password: account.password },
      { usernameOrEmail: account.username, password: "x".repeat(500) },
    ];
    for (const input of attempts) {
      const response = await server.request(mutations.login, { input });
      expect(errorCodes(response)).toEqual(["INVALID_CREDENTIALS"]);
      expect(response.errors![0]!.message).toBe("Invalid username, e-mail or password.");
      expect(response.data).toBeNull();
    }
  });

  it("answers me without, or with a malformed, token with null and UNAUTHENTICATED", async () => {
    for (const token of [undefined, "not-a-jwt", "a.b.c"]) {
      const response = await server.request(mutations.me, {}, { token });
      expect(response.data).toEqual({ me: null });
      expect(errorCodes(response)).toEqual(["UNAUTHENTICATED"]);
    }
    const wrongScheme = await server.request(mutations.me, {}, { headers: { authorization: "Basic dXNlcjpwYXNz" } });
    expect(errorCodes(wrongScheme)).toEqual(["UNAUTHENTICATED"]);
  });

  it("rejects a token whose payload was tampered with", async () => {
    const registered = await server.request(mutations.register, { input: newAccount() });
    const other = await server.request(mutations.register, { input: newAccount() });
    const [header, payload, signature] = registered.data!.register.accessToken.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    claims.sub = other.data!.register.user.id;
    const forged = [header, Buffer.from(JSON.stringify(claims)).toString("base64url"), signature].join(".");
    const response = await server.request(mutations.me, {}, { token: forged });
    expect(response.data).toEqual({ me: null });
    expect(errorCodes(response)).toEqual(["UNAUTHENTICATED"]);
  });

  it("shows a user's e-mail to its owner only; others get null and FORBIDDEN on that field", async () => {
    const owner = (await server.request(mutations.register, { input: newAccount() })).data!.register;
    const stranger = (await server.request(mutations.register, { input: newAccount() })).data!.register;
    const query = `query($id: ID!) { user(id: $id) { id username email } }`;

    const asOwner = await server.request(query, { id: owner.user.id }, { token: owner.accessToken });
    expect(asOwner.data!.user.email).toBe(owner.user.email);

    for (const token of [stranger.accessToken, undefined]) {
      const response = await server.request(query, { id: owner.user.id }, { token });
      expect(response.data!.user).toEqual({ id: owner.user.id, username: owner.user.username, email: null });
      expect(errorCodes(response)).toEqual(["FORBIDDEN"]);
      expect(response.errors![0]!.path).toEqual(["user", "email"]);
    }
  });

  it("answers user(id) with null for unknown and malformed ids", async () => {
    const query = `query($id: ID!) { user(id: $id) { id } }`;
    for (const id of ["00000000-0000-4000-8000-000000000000", "not-a-uuid"]) {
      const response = await server.request(query, { id });
      expect(response.errors).toBeUndefined();
      expect(response.data).toEqual({ user: null });
    }
  });
});
