import type { Clock } from "../clock.js";
import { BadUserInputError, ServiceUnavailableError } from "../errors/errors.js";
import type { Logger } from "../observability/logger.js";
import { ProviderRefusal, type SignInProvider } from "./sign-in-provider.js";
import type { IdentityProviderSettings, ProviderSetting } from "./settings.js";

/** What a login button needs. */
export interface ProviderSummary {
  id: string;
  name: string;
}

/**
 * A provider's setting made a provider: by discovery, for OpenID Connect. The providers' code (and
 * their OAuth client) is loaded here, so a server with none configured never loads it.
 */
async function connect(setting: ProviderSetting, timeoutSeconds: number): Promise<SignInProvider> {
  if (setting.kind === "github") {
    const { GitHubProvider } = await import("./github-provider.js");
    return new GitHubProvider(setting, timeoutSeconds);
  }
  const { OpenIdConnectProvider } = await import("./openid-connect-provider.js");
  return OpenIdConnectProvider.discover(setting, timeoutSeconds);
}

/** A provider whose discovery failed is tried again on use, at most this often. */
export const rediscoveryIntervalMs = 60_000;

interface Entry {
  setting: ProviderSetting;
  provider?: SignInProvider;
  lastAttemptAt?: number;
  attempt?: Promise<void>;
}

/**
 * The configured providers. Each is discovered at start; one whose discovery fails is logged and
 * unavailable (neither listed nor startable), not fatal, and is tried again when asked for, at
 * most once a minute, so a provider that was down at start becomes available without a restart.
 */
export class ProviderRegistry {
  private readonly entries: Map<string, Entry>;

  constructor(
    private readonly settings: IdentityProviderSettings,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    this.entries = new Map(settings.providers.map((setting) => [setting.id, { setting }]));
  }

  /** Discovers every provider at once; resolves when each has succeeded or failed (bounded by the timeout). */
  async load(): Promise<void> {
    await Promise.all([...this.entries.values()].map((entry) => this.discover(entry)));
  }

  /** The providers ready for sign-in, in configured order; starts a new discovery of those due for one. */
  available(): ProviderSummary[] {
    const ready: ProviderSummary[] = [];
    for (const entry of this.entries.values()) {
      if (entry.provider) ready.push({ id: entry.provider.id, name: entry.provider.name });
      else if (this.due(entry)) void this.discover(entry);
    }
    return ready;
  }

  /** BAD_USER_INPUT for an id no provider has; SERVICE_UNAVAILABLE for one whose discovery still fails. */
  async get(id: string): Promise<SignInProvider> {
    const entry = this.entries.get(id);
    if (!entry) throw new BadUserInputError("provider", "No identity provider has this id.");
    if (!entry.provider && this.due(entry)) await this.discover(entry);
    if (!entry.provider)
      throw new ServiceUnavailableError(
        "identity-provider",
        new Error(`identity provider ${id} is unavailable: its discovery failed`),
      );
    return entry.provider;
  }

  /** What a provider's id stands for in mails: its configured name, or the id once no longer configured. */
  nameOf(id: string): string {
    return this.entries.get(id)?.setting.name ?? id;
  }

  private due(entry: Entry): boolean {
    return (
      entry.attempt === undefined &&
      (entry.lastAttemptAt === undefined || this.now() - entry.lastAttemptAt >= rediscoveryIntervalMs)
    );
  }

  /** One attempt at a time per provider; a failure is logged, never thrown. */
  private discover(entry: Entry): Promise<void> {
    entry.attempt ??= (async () => {
      entry.lastAttemptAt = this.now();
      const { id } = entry.setting;
      try {
        entry.provider = await connect(entry.setting, this.settings.timeoutSeconds);
        this.logger.info({ provider: id }, "identity provider ready");
      } catch (error) {
        const { reason } = ProviderRefusal.from("discovery", error);
        this.logger.warn(
          { provider: id, reason },
          "identity provider unavailable: its discovery failed; tried again when asked for, at most once a minute",
        );
      } finally {
        entry.attempt = undefined;
      }
    })();
    return entry.attempt;
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}
