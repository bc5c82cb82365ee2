import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

/** A person at the provider: the claims its ID token and userinfo carry. */
export interface ProviderAccount {
  email: string;
  emailVerified: boolean;
  preferredUsername?: string;
  name?: string;
}

export interface TestOpenIdProviderOptions {
  redirectUris: string[];
  /** Off: e-mail claims come from userinfo only, as many providers send them. */
  emailInIdToken?: boolean;
  /** Default: any free port. */
  port?: number;
}

/** The provider's page, decoded as a browser would read an attribute. */
function attribute(html: string, pattern: RegExp): string | undefined {
  return pattern
    .exec(html)?.[1]
    ?.replace(/&amp;/g, "&")
    .replace(/&#x2F;/g, "/")
    .replace(/&#x3D;/g, "=");
}

/**
 * A real OpenID provider (oidc-provider) on 127.0.0.1 at a random port, with one confidential
 * client, accounts the test adds, and its development login and consent pages, which `signIn`
 * fills in as a browser would.
 */
export class TestOpenIdProvider {
  readonly clientId = `client-${randomBytes(4).toString("hex")}`;
  readonly clientSecret = randomBytes(24).toString("base64url");
  private readonly accounts = new Map<string, ProviderAccount>();

  private constructor(
    private readonly server: Server,
    readonly issuer: string,
  ) {}

  static async start(options: TestOpenIdProviderOptions): Promise<TestOpenIdProvider> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const provider = new TestOpenIdProvider(server, issuer);
    const oidc = new Provider(issuer, provider.configuration(options));
    server.on("request", oidc.callback());
    return provider;
  }

  /** A new person; the login name typed at the provider's page. */
  addAccount(account: ProviderAccount): string {
    const login = `person-${randomBytes(6).toString("hex")}`;
    this.accounts.set(login, account);
    return login;
  }

  /** The entry of IDENTITY_PROVIDERS for this provider. */
  setting(id: string, name = "Test IdP") {
    return { id, name, issuer: this.issuer, clientId: this.clientId, clientSecret: this.clientSecret };
  }

  /**
   * The browser's part: opens the authorization URL, signs in as `login` and consents on the
   * provider's pages (with the cookies they set), and returns the URL the provider redirects to.
   */
  async signIn(authorizationUrl: string, login: string): Promise<string> {
    const cookies = new Map<string, string>();
    let request: { url: string; form?: URLSearchParams } = { url: authorizationUrl };
    for (let step = 0; step < 10; step++) {
      const response = await fetch(request.url, {
        method: request.form ? "POST" : "GET",
        body: request.form,
        redirect: "manual",
        headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join("; ") },
      });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair = ""] = cookie.split(";");
        cookies.set(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
      }
      const location = response.headers.get("location");
      if (location) {
        const next = new URL(location, request.url).href;
        if (!next.startsWith(this.issuer)) return next;
        request = { url: next };
        continue;
      }
      const html = await response.text();
      const action = attribute(html, /<form[^>]*action="([^"]+)"/);
      const prompt = attribute(html, /name="prompt" value="(\w+)"/);
      if (!action || !prompt)
        throw new Error(`unexpected page from the provider (HTTP ${response.status}): ${html.slice(0, 500)}`);
      const form: Record<string, string> =
        prompt === "login" ? { prompt, login, password: "any password" } : { prompt };
      request = { url: new URL(action, request.url).href, form: new URLSearchParams(form) };
    }
    throw new Error("the provider never redirected back");
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private configuration(options: TestOpenIdProviderOptions): Record<string, unknown> {
    return {
      clients: [
        {
          client_id: this.clientId,
          client_secret: this.clientSecret,
          redirect_uris: options.redirectUris,
          grant_types: ["authorization_code"],
          response_types: ["code"],
        },
      ],
      findAccount: (_context: unknown, id: string) => {
        const account = this.accounts.get(id);
        if (!account) return undefined;
        return {
          accountId: id,
          claims: () => ({
            sub: id,
            email: account.email,
            email_verified: account.emailVerified,
            preferred_username: account.preferredUsername,
            name: account.name,
          }),
        };
      },
      claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "preferred_username"] },
      conformIdTokenClaims: !(options.emailInIdToken ?? true),
      features: { devInteractions: { enabled: true } },
      ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
      cookies: { keys: [randomBytes(16).toString("hex")] },
    };
  }
}
