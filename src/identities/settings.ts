import { z } from "zod";

/** An OpenID Connect provider, found by discovery from its issuer. */
export interface OidcProviderSetting {
  kind: "oidc";
  id: string;
  /** What the login button says. */
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Asked for beside `openid`; default `email profile`. */
  scopes: string[];
}

/** GitHub (plain OAuth 2): no discovery and no ID token; the person comes from its REST API. */
export interface GitHubProviderSetting {
  kind: "github";
  id: string;
  name: string;
  clientId: string;
  clientSecret: string;
  /** Default `read:user user:email`. */
  scopes: string[];
  /** Where people sign in (the authorization and token endpoints); GitHub Enterprise has its own. */
  webUrl: string;
  apiUrl: string;
}

export type ProviderSetting = OidcProviderSetting | GitHubProviderSetting;

/** What `IDENTITY_PROVIDERS`, `REDIRECT_URIS` and `IDENTITY_PROVIDER_TIMEOUT` configure. */
export interface IdentityProviderSettings {
  providers: ProviderSetting[];
  /** The app pages a provider may send the browser back to, compared exactly. */
  redirectUris: string[];
  /** The longest wait for any one request to a provider. */
  timeoutSeconds: number;
}

const httpUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "https:" || url.protocol === "http:") && url.username === "" && url.password === "";
    } catch {
      return false;
    }
  }, "must be an http:// or https:// URL without credentials");

/** A base that paths are appended to: without its trailing slashes. */
const baseUrl = httpUrl.transform((value) => value.replace(/\/+$/, ""));

// Scope tokens as RFC 6749 defines them: printable ASCII but space, quote and backslash.
const scopes = z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, "must be scope names without spaces")).max(20);

const common = {
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be 1–32 of "a-z 0-9 _ -", starting with a letter or digit'),
  name: z.string().trim().min(1).max(64),
  clientId: z.string().trim().min(1).max(512),
  clientSecret: z.string().min(1).max(4096),
};

const oidcSchema = z
  .object({
    kind: z.literal("oidc").default("oidc"),
    ...common,
    issuer: httpUrl,
    scopes: scopes.default(["email", "profile"]),
  })
  .strict();

const githubSchema = z
  .object({
    kind: z.literal("github"),
    ...common,
    scopes: scopes.default(["read:user", "user:email"]),
    webUrl: baseUrl.default("https://github.com"),
    apiUrl: baseUrl.default("https://api.github.com"),
  })
  .strict();

function kindOf(entry: unknown): unknown {
  return typeof entry === "object" && entry !== null && "kind" in entry ? entry.kind : "oidc";
}

/**
 * `IDENTITY_PROVIDERS`: a JSON list of providers. Every problem is reported with its place
 * (`IDENTITY_PROVIDERS[1].issuer …`); no value is quoted, since the list holds client secrets.
 */
export function parseIdentityProviders(text: string, ctx: z.RefinementCtx): ProviderSetting[] {
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be a JSON list of providers" });
    return [];
  }
  if (!Array.isArray(entries)) {
    ctx.addIssue({ code: "custom", message: "must be a JSON list of providers" });
    return [];
  }
  const providers: ProviderSetting[] = [];
  entries.forEach((entry, index) => {
    const kind = kindOf(entry);
    if (kind !== "oidc" && kind !== "github") {
      ctx.addIssue({ code: "custom", path: [index, "kind"], message: 'must be "oidc" (the default) or "github"' });
      return;
    }
    const parsed = (kind === "github" ? githubSchema : oidcSchema).safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        ctx.addIssue({ code: "custom", path: [index, ...issue.path.map(String)], message: issue.message });
      return;
    }
    if (providers.some((provider) => provider.id === parsed.data.id)) {
      ctx.addIssue({ code: "custom", path: [index, "id"], message: "names another provider too: ids must differ" });
      return;
    }
    providers.push(parsed.data);
  });
  return providers;
}

/**
 * `REDIRECT_URIS`: comma- or space-separated absolute URLs without query or fragment, kept in their
 * normalized form (`https://app.example.com/auth/callback`), against which a request's redirect URI
 * is compared character for character.
 */
export function parseRedirectUris(text: string, ctx: z.RefinementCtx): string[] {
  const entries = text.split(/[\s,]+/).filter((entry) => entry !== "");
  const normalized: string[] = [];
  for (const entry of entries) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      ctx.addIssue({ code: "custom", message: `must list absolute URLs (got "${entry}")` });
      continue;
    }
    if (
      !["http:", "https:"].includes(url.protocol) ||
      url.search !== "" ||
      url.hash !== "" ||
      url.username !== "" ||
      url.password !== ""
    ) {
      ctx.addIssue({
        code: "custom",
        message: `must list http(s) URLs without query, fragment or credentials (got "${entry}")`,
      });
      continue;
    }
    normalized.push(url.href);
  }
  return [...new Set(normalized)];
}

/** Provider addresses that production refuses: plain http lets anyone on the path forge the provider's answers. */
function insecureProviderUrls(providers: readonly ProviderSetting[]): string[] {
  return providers
    .flatMap((provider) => (provider.kind === "oidc" ? [provider.issuer] : [provider.webUrl, provider.apiUrl]))
    .filter((url) => url.startsWith("http:"));
}

interface IdentityProviderVariables {
  IDENTITY_PROVIDERS: ProviderSetting[];
  REDIRECT_URIS?: string[];
  IDENTITY_PROVIDER_TIMEOUT: number;
}

/**
 * The feature's group of the configuration. IDENTITY_PROVIDER_TIMEOUT is a duration, which the
 * configuration parses as it parses every other.
 */
export const identityProviderGroup = {
  /** Its variables, parsed. */
  variables: {
    IDENTITY_PROVIDERS: z.string().default("[]").transform(parseIdentityProviders),
    REDIRECT_URIS: z.string().transform(parseRedirectUris).optional(),
  },

  /** The settings the variables make; the app's own callback page unless REDIRECT_URIS says otherwise. */
  settings(env: IdentityProviderVariables, appUrl: string): IdentityProviderSettings {
    return {
      providers: env.IDENTITY_PROVIDERS,
      redirectUris: env.REDIRECT_URIS ?? [new URL(`${appUrl}/auth/callback`).href],
      timeoutSeconds: env.IDENTITY_PROVIDER_TIMEOUT,
    };
  },

  /** What production refuses of the group, reported with the configuration's other problems. */
  checkForProduction(env: IdentityProviderVariables, ctx: z.RefinementCtx): void {
    for (const url of insecureProviderUrls(env.IDENTITY_PROVIDERS)) {
      ctx.addIssue({
        code: "custom",
        path: ["IDENTITY_PROVIDERS"],
        message: `must use https:// addresses in production (not ${url})`,
      });
    }
  },
};
