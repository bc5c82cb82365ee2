import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A GitHub user as the REST API answers for it. */
export interface GitHubPerson {
  id: number;
  login: string;
  name?: string;
  /** The public address of `/user` (null when private). */
  email?: string | null;
  /** `/user/emails`; null: the list is refused (the token lacks `user:email`). */
  emails: { email: string; primary: boolean; verified: boolean }[] | null;
}

interface Grant {
  person: GitHubPerson;
  redirectUri: string;
  codeChallenge: string;
}

async function formOf(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

/**
 * The parts of GitHub that sign-in uses, on loopback, answering as GitHub does: the authorization
 * page (signing in `person` at once), the token endpoint (client secret in the form, PKCE, codes
 * used once; a bad code is a 200 with an `error`, as GitHub answers), and the REST API's `/user`
 * and `/user/emails` under `/api`. `hang` makes one of them never answer; `failUser` makes `/user` fail.
 */
export class FakeGitHub {
  readonly clientId = `Iv1.${randomBytes(8).toString("hex")}`;
  readonly clientSecret = randomBytes(20).toString("hex");
  person: GitHubPerson = { id: 1, login: "octocat", emails: [] };
  hang: "token" | "user" | undefined;
  failUser = false;
  /** Every token endpoint request's form, for the test to inspect. */
  readonly tokenRequests: URLSearchParams[] = [];
  private readonly grants = new Map<string, Grant>();
  private readonly tokens = new Map<string, GitHubPerson>();

  private constructor(
    private readonly server: Server,
    readonly webUrl: string,
  ) {}

  static async start(): Promise<FakeGitHub> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const github = new FakeGitHub(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on("request", (request, response) => {
      github.handle(request, response).catch((error: unknown) => response.writeHead(500).end(String(error)));
    });
    return github;
  }

  get apiUrl(): string {
    return `${this.webUrl}/api`;
  }

  setting(id = "github") {
    return {
      kind: "github",
      id,
      name: "GitHub",
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      webUrl: this.webUrl,
      apiUrl: this.apiUrl,
    };
  }

  /** The browser's part: GitHub's page signs `person` in and redirects back. */
  async signIn(authorizationUrl: string): Promise<string> {
    const response = await fetch(authorizationUrl, { redirect: "manual" });
    const location = response.headers.get("location");
    if (!location) throw new Error(`the fake GitHub did not redirect (HTTP ${response.status})`);
    return location;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", this.webUrl);
    const json = (body: unknown, status = 200): void => {
      response.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
    };
    if (url.pathname === "/login/oauth/authorize") return this.authorize(url, response);
    if (url.pathname === "/login/oauth/access_token" && request.method === "POST") {
      if (this.hang === "token") return;
      return json(this.token(await formOf(request)));
    }
    const person = this.tokens.get(request.headers.authorization?.replace(/^(Bearer|token) /i, "") ?? "");
    if (!person) return json({ message: "Bad credentials" }, 401);
    if (url.pathname === "/api/user") {
      if (this.hang === "user") return;
      if (this.failUser) return json({ message: "Server Error" }, 502);
      return json({ id: person.id, login: person.login, name: person.name ?? null, email: person.email ?? null });
    }
    if (url.pathname === "/api/user/emails") {
      if (!person.emails) return json({ message: "Not Found" }, 404);
      return json(person.emails.map((entry) => ({ ...entry, visibility: entry.primary ? "public" : null })));
    }
    json({ message: "Not Found" }, 404);
  }

  private authorize(url: URL, response: ServerResponse): void {
    const code = randomBytes(10).toString("hex");
    const redirectUri = url.searchParams.get("redirect_uri") ?? "";
    this.grants.set(code, {
      person: this.person,
      redirectUri,
      codeChallenge: url.searchParams.get("code_challenge") ?? "",
    });
    const back = new URL(redirectUri);
    back.search = new URLSearchParams({ code, state: url.searchParams.get("state") ?? "" }).toString();
    response.writeHead(302, { location: back.href }).end();
  }

  private token(form: URLSearchParams): Record<string, unknown> {
    this.tokenRequests.push(form);
    const grant = this.grants.get(form.get("code") ?? "");
    this.grants.delete(form.get("code") ?? "");
    if (form.get("client_id") !== this.clientId || form.get("client_secret") !== this.clientSecret)
      return { error: "incorrect_client_credentials" };
    const verifier = createHash("sha256")
      .update(form.get("code_verifier") ?? "")
      .digest("base64url");
    if (!grant || grant.redirectUri !== form.get("redirect_uri") || verifier !== grant.codeChallenge) {
      return { error: "bad_verification_code", error_description: "The code passed is incorrect or expired." };
    }
    const accessToken = `gho_${randomBytes(18).toString("hex")}`;
    this.tokens.set(accessToken, grant.person);
    return { access_token: accessToken, token_type: "bearer", scope: "read:user,user:email" };
  }
}
