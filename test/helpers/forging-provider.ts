import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";

/** What the token endpoint does to the next ID token it issues; `honest` forges nothing. */
export type Forgery = "honest" | "other-issuer" | "other-audience" | "other-key" | "alg-none" | "other-nonce";

export interface Person {
  sub: string;
  email: string;
  emailVerified: boolean;
}

interface Grant {
  person: Person;
  clientId: string;
  redirectUri: string;
  nonce: string;
  codeChallenge: string;
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/**
 * A small hand-written OpenID provider on loopback whose token endpoint can forge one property of
 * the ID token it returns, everything else being right: the issuer, the audience, the key that
 * signs it (a key it does not publish, under the published key's id), its `alg` (`none`,
 * unsigned, although its metadata lists `none`) or its nonce. Its authorization endpoint signs in
 * `person` at once. The honest case shows that each refusal comes from the one forged property.
 * It keeps every token it issued, so a test can check that none leaked.
 */
export class ForgingProvider {
  readonly clientId = `client-${randomBytes(4).toString("hex")}`;
  readonly clientSecret = randomBytes(24).toString("base64url");
  forgery: Forgery = "honest";
  person: Person = { sub: "nobody", email: "nobody@example.com", emailVerified: true };
  readonly issued: string[] = [];
  private readonly grants = new Map<string, Grant>();
  private publicJwk!: JWK;
  private signingKey!: CryptoKey;
  private foreignKey!: CryptoKey;

  private constructor(
    private readonly server: Server,
    readonly issuer: string,
  ) {}

  static async start(): Promise<ForgingProvider> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const provider = new ForgingProvider(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const [signing, foreign] = await Promise.all([generateKeyPair("ES256"), generateKeyPair("ES256")]);
    provider.signingKey = signing.privateKey;
    provider.foreignKey = foreign.privateKey;
    provider.publicJwk = { ...(await exportJWK(signing.publicKey)), kid: "key-1", alg: "ES256", use: "sig" };
    server.on("request", (request, response) => {
      provider.handle(request, response).catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
    });
    return provider;
  }

  setting(id: string) {
    return { id, name: "Forging IdP", issuer: this.issuer, clientId: this.clientId, clientSecret: this.clientSecret };
  }

  /** The browser's part: the authorization endpoint redirects straight back. */
  async signIn(authorizationUrl: string): Promise<string> {
    const response = await fetch(authorizationUrl, { redirect: "manual" });
    const location = response.headers.get("location");
    if (!location) throw new Error(`the forging provider did not redirect (HTTP ${response.status})`);
    return location;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", this.issuer);
    const json = (status: number, body: unknown): void => {
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (url.pathname === "/.well-known/openid-configuration") return json(200, this.metadata());
    if (url.pathname === "/jwks") return json(200, { keys: [this.publicJwk] });
    if (url.pathname === "/authorize") return this.authorize(url, response);
    if (url.pathname === "/token" && request.method === "POST") {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = new URLSearchParams(Buffer.concat(chunks).toString());
      const answer = await this.token(request.headers.authorization, body);
      return json(answer.error ? 400 : 200, answer);
    }
    json(404, { error: "not_found" });
  }

  private metadata() {
    return {
      issuer: this.issuer,
      authorization_endpoint: `${this.issuer}/authorize`,
      token_endpoint: `${this.issuer}/token`,
      jwks_uri: `${this.issuer}/jwks`,
      response_types_supported: ["code"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256", "none"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["client_secret_basic"],
      authorization_response_iss_parameter_supported: true,
    };
  }

  private authorize(url: URL, response: ServerResponse): void {
    const parameters = Object.fromEntries(url.searchParams);
    const code = randomBytes(24).toString("base64url");
    this.grants.set(code, {
      person: this.person,
      clientId: parameters.client_id ?? "",
      redirectUri: parameters.redirect_uri ?? "",
      nonce: parameters.nonce ?? "",
      codeChallenge: parameters.code_challenge ?? "",
    });
    const back = new URL(parameters.redirect_uri ?? "");
    back.search = new URLSearchParams({ code, state: parameters.state ?? "", iss: this.issuer }).toString();
    response.writeHead(302, { location: back.href }).end();
  }

  /** A conforming token endpoint: client authentication, single-use codes, PKCE, the redirect URI. */
  private async token(authorization: string | undefined, body: URLSearchParams): Promise<Record<string, unknown>> {
    // RFC 6749 2.3.1: each part form-encoded, then base64.
    const [id, secret] = Buffer.from(authorization?.replace(/^Basic /, "") ?? "", "base64")
      .toString()
      .split(":")
      .map((part) => decodeURIComponent(part.replace(/\+/g, " ")));
    if (id !== this.clientId || secret !== this.clientSecret) return { error: "invalid_client" };
    const grant = this.grants.get(body.get("code") ?? "");
    this.grants.delete(body.get("code") ?? "");
    if (!grant || grant.redirectUri !== body.get("redirect_uri") || grant.clientId !== this.clientId)
      return { error: "invalid_grant" };
    const challenge = createHash("sha256")
      .update(body.get("code_verifier") ?? "")
      .digest("base64url");
    if (challenge !== grant.codeChallenge) return { error: "invalid_grant" };
    const accessToken = randomBytes(24).toString("base64url");
    const idToken = await this.idToken(grant);
    this.issued.push(accessToken, idToken);
    return { access_token: accessToken, token_type: "Bearer", expires_in: 600, id_token: idToken };
  }

  private async idToken(grant: Grant): Promise<string> {
    const forged = this.forgery;
    const claims = {
      email: grant.person.email,
      email_verified: grant.person.emailVerified,
      nonce: forged === "other-nonce" ? randomBytes(16).toString("base64url") : grant.nonce,
    };
    const now = Math.floor(Date.now() / 1000);
    if (forged === "alg-none") {
      const payload = {
        ...claims,
        iss: this.issuer,
        sub: grant.person.sub,
        aud: this.clientId,
        iat: now,
        exp: now + 600,
      };
      return `${base64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url(JSON.stringify(payload))}.`;
    }
    return new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", kid: "key-1", typ: "JWT" })
      .setIssuer(forged === "other-issuer" ? "http://127.0.0.1:1" : this.issuer)
      .setSubject(grant.person.sub)
      .setAudience(forged === "other-audience" ? "another-client" : this.clientId)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(forged === "other-key" ? this.foreignKey : this.signingKey);
  }
}
