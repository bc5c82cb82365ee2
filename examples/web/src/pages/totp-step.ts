import { mutate, startSession } from "../api";
import { CompleteLogin, type Tokens } from "../operations";
import { navigate, type Page } from "../router";
import { passkeySignIn } from "../passkey-sign-in";
import { action, form, h } from "../ui";

/** The login waiting for its second factor; in memory only, like every token of the app. */
let mfaToken: string | null = null;

export function askForCode(token: string): Promise<void> {
  mfaToken = token;
  return navigate("/sign-in/code");
}

async function completed(tokens: Tokens): Promise<void> {
  startSession(tokens);
  mfaToken = null;
  await navigate("/account");
}

export const totpStep: Page = {
  path: "/sign-in/code",
  title: "Authenticator code",
  access: "signed-out",
  render: () => {
    if (!mfaToken) {
      // A reload forgot the login waiting for its code: start again.
      void navigate("/sign-in", true);
      return document.createDocumentFragment();
    }
    return h(
      "section",
      {},
      h("h1", {}, "Two-factor authentication"),
      h("p", {}, "Enter the code your authenticator app shows, or one of your recovery codes."),
      form([{ name: "code", label: "Code", autocomplete: "one-time-code" }], "Continue", async ({ code }) =>
        completed((await mutate<{ completeLogin: Tokens }>(CompleteLogin, { mfaToken, code })).completeLogin),
      ),
      // A passkey of the account that verifies its user (PIN, fingerprint) completes the login too.
      action("Use a passkey instead", async () => completed(await passkeySignIn({ mfaToken: mfaToken! }))).element,
    );
  },
};
