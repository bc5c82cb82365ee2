import { endSession, mutate, query } from "../api";
import { identities } from "../account/identities";
import { passkeys } from "../account/passkeys";
import { profile } from "../account/profile";
import { securityEvents } from "../account/security-events";
import { sessions } from "../account/sessions";
import { twoFactor } from "../account/two-factor";
import { Account, Logout, type AccountData } from "../operations";
import { navigate, type Page } from "../router";
import { h } from "../ui";

/** A part of the account page: it gets the account's data, and `reload` to show it again after a change. */
export type AccountSection = (account: AccountData, reload: () => Promise<void>) => Node;

const sections: AccountSection[] = [profile, twoFactor, passkeys, identities, sessions, securityEvents];

export async function signOut(): Promise<void> {
  // Ends the session on the server, which clears the cookie; the access token is forgotten here.
  await mutate(Logout);
  endSession();
  await navigate("/sign-in");
}

export const account: Page = {
  path: "/account",
  title: "Your account",
  access: "signed-in",
  render: async () => {
    const data = await query<AccountData>(Account);
    const reload = () => navigate("/account", true);
    return h(
      "section",
      {},
      h(
        "header",
        {},
        h("h1", {}, `Hello, ${data.me.username}`),
        h("button", { type: "button", onclick: () => void signOut() }, "Sign out"),
      ),
      ...sections.map((section) => section(data, reload)),
    );
  },
};
