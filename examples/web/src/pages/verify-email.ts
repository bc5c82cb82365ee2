import { ApiError, isSignedIn, mutate } from "../api";
import { VerifyEmail } from "../operations";
import type { Page } from "../router";
import { h } from "../ui";
import { link } from "./sign-in";

/** The page the verification mail links to: `/verify-email?token=…`. */
export const verifyEmail: Page = {
  path: "/verify-email",
  title: "Verify your e-mail address",
  access: "anyone",
  render: async () => {
    const token = new URLSearchParams(location.search).get("token") ?? "";
    // The token is spent once used: out of the address bar and the history.
    history.replaceState(null, "", "/verify-email");
    let message: string;
    try {
      await mutate(VerifyEmail, { token });
      message = "Your e-mail address is verified.";
    } catch (error) {
      message = error instanceof ApiError ? error.message : "Something went wrong.";
    }
    const next = isSignedIn() ? "/account" : "/sign-in";
    return h(
      "section",
      {},
      h("h1", {}, "E-mail address"),
      h("p", { role: "status" }, message),
      h("a", { href: next, onclick: link(next) }, "Continue"),
    );
  },
};
