import { ApiError, mutate, startSession } from "../api";
import { Login, type Tokens } from "../operations";
import { passkeySignIn } from "../passkey-sign-in";
import { providerButtons } from "../social-sign-in";
import { navigate, type Page } from "../router";
import { action, form, h } from "../ui";
import { canAutofillPasskeys, isCancelled } from "../webauthn";
import { askForCode } from "./totp-step";

/** Starts the session a sign-in answered, or asks for a code when the account wants a second factor. */
export async function signedIn(attempt: Promise<Tokens>): Promise<void> {
  try {
    startSession(await attempt);
  } catch (error) {
    if (error instanceof ApiError && error.code === "MFA_REQUIRED")
      return askForCode(String(error.extensions.mfaToken));
    throw error;
  }
  await navigate("/account");
}

/** While the page is open, the browser offers this site's passkeys among the username field's suggestions. */
async function offerPasskeyAutofill(report: (error: unknown) => void): Promise<void> {
  if (!(await canAutofillPasskeys())) return;
  try {
    await signedIn(passkeySignIn({}, true));
  } catch (error) {
    // Cancelled when the user signs in another way: nothing to tell.
    if (!isCancelled(error)) report(error);
  }
}

export const signIn: Page = {
  path: "/sign-in",
  title: "Sign in",
  access: "signed-out",
  render: async () => {
    const providers = await providerButtons();
    const passkey = action("Sign in with a passkey", () => signedIn(passkeySignIn({})));
    void offerPasskeyAutofill(passkey.report);
    return h(
      "section",
      {},
      h("h1", {}, "Sign in"),
      form(
        [
          // `webauthn`: the browser's suggestions for this field include passkeys (the autofill above).
          { name: "usernameOrEmail", label: "Username or e-mail", autocomplete: "username webauthn" },
          { name: "password", label: "Password", type: "password", autocomplete: "current-password" },
        ],
        "Sign in",
        async (input) => signedIn(mutate<{ login: Tokens }>(Login, { input }).then((data) => data.login)),
      ),
      passkey.element,
      ...providers,
      h("p", {}, "No account yet? ", h("a", { href: "/register", onclick: link("/register") }, "Register")),
    );
  },
};

/** A link the app follows itself, without reloading the page. */
export function link(path: string) {
  return (event: Event) => {
    event.preventDefault();
    void navigate(path);
  };
}
