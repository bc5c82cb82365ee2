import { mutate } from "../api";
import { LinkIdentity, UnlinkIdentity, type AccountData } from "../operations";
import { leaveFor } from "../social-sign-in";
import { action, h } from "../ui";

/** The providers whose sign-in signs in to the account, each unlinkable, and one more linked from here. */
export function identities({ me, identityProviders }: AccountData, reload: () => Promise<void>): Node {
  const nameOf = (provider: string) => identityProviders.find(({ id }) => id === provider)?.name ?? provider;
  return h(
    "div",
    { class: "card" },
    h("h2", {}, "Linked sign-ins"),
    me.identities.length === 0 &&
      h("p", {}, "No provider linked yet: link one to sign in with it instead of a password."),
    h(
      "ul",
      { class: "identities" },
      ...me.identities.map((identity) =>
        h(
          "li",
          {},
          h("div", {}, h("span", {}, nameOf(identity.provider)), h("small", {}, identity.email ?? "no e-mail address")),
          // The server refuses to unlink the last way in (LAST_SIGN_IN_METHOD): its message shows here.
          action("Unlink", async () => {
            await mutate(UnlinkIdentity, { id: identity.id });
            await reload();
          }).element,
        ),
      ),
    ),
    ...identityProviders.map(
      (provider) => action(`Link ${provider.name}`, () => leaveFor(LinkIdentity, provider.id)).element,
    ),
  );
}
