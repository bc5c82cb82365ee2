import { ApiError, isSignedIn } from "../api";
import type { Page } from "../router";
import { completeSocialSignIn } from "../social-sign-in";
import { h } from "../ui";
import { link, signedIn } from "./sign-in";

/**
 * Where a provider sends the browser back: the sign-in completes here, and goes on as a password's does.
 * A signed-in user comes back from linking a provider (the link signs in again), so anyone may be here.
 */
export const authCallback: Page = {
  path: "/auth/callback",
  title: "Signing in",
  access: "anyone",
  render: async () => {
    try {
      await signedIn(completeSocialSignIn());
      // Gone to the account or to the code step: nothing to show here.
      return document.createDocumentFragment();
    } catch (error) {
      const back = isSignedIn() ? "/account" : "/sign-in";
      return h(
        "section",
        {},
        h("h1", {}, "Sign in"),
        h("p", { class: "error", role: "alert" }, error instanceof ApiError ? error.message : "Something went wrong."),
        h("a", { href: back, onclick: link(back) }, isSignedIn() ? "Back to your account" : "Back to sign in"),
      );
    }
  },
};
