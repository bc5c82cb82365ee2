import { ApiError, mutate, startSession } from "../api";
import { Login, type Tokens } from "../operations";
import { navigate, type Page } from "../router";
import { form, h } from "../ui";
import { askForCode } from "./totp-step";

export const signIn: Page = {
  path: "/sign-in",
  title: "Sign in",
  access: "signed-out",
  render: () =>
    h(
      "section",
      {},
      h("h1", {}, "Sign in"),
      form(
        [
          // `webauthn` lets the browser offer passkeys in this field's autofill once a passkey sign-in is added.
          { name: "usernameOrEmail", label: "Username or e-mail", autocomplete: "username webauthn" },
          { name: "password", label: "Password", type: "password", autocomplete: "current-password" },
        ],
        "Sign in",
        async (input) => {
          try {
            startSession((await mutate<{ login: Tokens }>(Login, { input })).login);
            await navigate("/account");
          } catch (error) {
            // The password was right; the account asks for a code from an authenticator app.
            if (error instanceof ApiError && error.code === "MFA_REQUIRED")
              return askForCode(String(error.extensions.mfaToken));
            throw error;
          }
        },
      ),
      h("p", {}, "No account yet? ", h("a", { href: "/register", onclick: link("/register") }, "Register")),
    ),
};

/** A link the app follows itself, without reloading the page. */
export function link(path: string) {
  return (event: Event) => {
    event.preventDefault();
    void navigate(path);
  };
}
