import { createHash, randomBytes } from "node:crypto";
import { InvalidChallengeError } from "../errors/errors.js";
import { loadOnFirstUse } from "../load-on-first-use.js";
import type { SingleUseStore } from "../store/single-use-store.js";
import type { AuthorizationSecrets } from "./sign-in-provider.js";

const openIdClient = loadOnFirstUse(() => import("openid-client"));

/** How long a sign-in may take at the provider, from start to completion. */
export const flowLifetimeSeconds = 10 * 60;

/** A sign-in with a provider under way: what its completion needs, kept by the server only. */
export interface SignInFlow {
  provider: string;
  /** The allowed redirect URI it started with, normalized. */
  redirectUri: string;
  secrets: AuthorizationSecrets;
  /** `link`: the completion links the identity to `userId` (who started it signed in) instead of signing in. */
  purpose: { kind: "login" } | { kind: "link"; userId: string };
}

// 32 random bytes in base64url: exactly 43 characters. Anything else is no flow of ours.
const flowIdPattern = /^[A-Za-z0-9_-]{43}$/;

function isSignInFlow(value: unknown): value is SignInFlow {
  const flow = value as SignInFlow | null;
  return (
    typeof flow?.provider === "string" &&
    typeof flow.redirectUri === "string" &&
    typeof flow.secrets?.state === "string" &&
    typeof flow.secrets.nonce === "string" &&
    typeof flow.secrets.codeVerifier === "string" &&
    (flow.purpose?.kind === "login" || (flow.purpose?.kind === "link" && typeof flow.purpose.userId === "string"))
  );
}

/**
 * Sign-ins under way, in the shared store: single use (taken atomically, so of two completions of
 * one flow at most one proceeds), gone after `flowLifetimeSeconds`. The store's key is the SHA-256
 * of the flow id, so whoever reads the store cannot complete a flow.
 */
export class SignInFlows {
  constructor(private readonly store: SingleUseStore) {}

  /** A new flow with fresh `state`, `nonce` and PKCE verifier; its id goes to the client. */
  async begin(flow: Omit<SignInFlow, "secrets">): Promise<{ flowId: string; secrets: AuthorizationSecrets }> {
    const client = await openIdClient();
    const secrets = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
    };
    const flowId = randomBytes(32).toString("base64url");
    await this.store.put(keyOf(flowId), JSON.stringify({ ...flow, secrets } satisfies SignInFlow), flowLifetimeSeconds);
    return { flowId, secrets };
  }

  /** The flow, deleted as it is read; INVALID_CHALLENGE when it is unknown, used or expired. */
  async take(flowId: string): Promise<SignInFlow> {
    if (!flowIdPattern.test(flowId)) throw new InvalidChallengeError("flowId");
    const stored = await this.store.take(keyOf(flowId));
    const flow: unknown = stored === null ? null : JSON.parse(stored);
    if (!isSignInFlow(flow)) throw new InvalidChallengeError("flowId");
    return flow;
  }
}

function keyOf(flowId: string): string {
  return `signin:${createHash("sha256").update(flowId).digest("base64url")}`;
}
