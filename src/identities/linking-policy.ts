import type { ProviderProfile } from "./sign-in-provider.js";

/** An account as the policy sees it; the caller's own record rides along. */
export interface AddressOwner {
  emailVerified: boolean;
  /** It has identities or passkeys added before anyone proved its address (see `Identity.tentative`, `Passkey.tentative`). */
  hasTentativeSignInMethods: boolean;
}

/** What a sign-in with a provider leads to. */
export type SignInDecision<A extends AddressOwner> =
  /** The identity is linked: its account. */
  | { kind: "sign-in"; userId: string }
  /** An account has the address and both sides vouch for it: link the identity, then sign in. */
  | { kind: "link-and-sign-in"; account: A }
  /** An account has the address, but one side does not vouch for it, or it holds tentative identities (ACCOUNT_LINK_REQUIRED). */
  | { kind: "link-required" }
  | { kind: "new-account"; email: string }
  /** Nothing to sign in to and nothing to make an account of (SOCIAL_LOGIN_FAILED). */
  | { kind: "refused"; reason: string };

export interface SignInFacts<A extends AddressOwner> {
  /** The account the identity is linked to, if any. */
  linkedUserId: string | null;
  profile: Pick<ProviderProfile, "email" | "emailVerified">;
  /** The account whose address is the provider's address, if any. */
  accountWithEmail: A | null;
}

/**
 * Linking without a takeover path. An address is linked automatically only when the provider says
 * its user proved it AND the account's owner proved it too: otherwise whoever typed the address
 * first (an attacker registering a victim's address in advance, or a provider that lets anyone
 * claim any address) would share the account with its real owner. Everything else is linked by
 * the owner, signed in (`linkIdentity`). Nor is an account linked automatically while it holds
 * identities or passkeys added before anyone proved its address: one made with someone else's
 * address (at a provider that does not check addresses, or by registering it) would otherwise be
 * handed to its victim with the maker's way in (the victim resets the password first, which drops them).
 */
export function decideSignIn<A extends AddressOwner>({
  linkedUserId,
  profile,
  accountWithEmail,
}: SignInFacts<A>): SignInDecision<A> {
  if (linkedUserId !== null) return { kind: "sign-in", userId: linkedUserId };
  if (profile.email === null)
    return { kind: "refused", reason: "the provider gave no usable e-mail address for a new account" };
  if (accountWithEmail === null) return { kind: "new-account", email: profile.email };
  if (profile.emailVerified && accountWithEmail.emailVerified && !accountWithEmail.hasTentativeSignInMethods) {
    return { kind: "link-and-sign-in", account: accountWithEmail };
  }
  return { kind: "link-required" };
}

/** What `linkIdentity`'s completion does with the identity, for the account that started it. */
export type LinkDecision = "link" | "linked-already" | "linked-elsewhere";

export function decideLink(linkedUserId: string | null, viewerId: string): LinkDecision {
  if (linkedUserId === null) return "link";
  return linkedUserId === viewerId ? "linked-already" : "linked-elsewhere";
}
