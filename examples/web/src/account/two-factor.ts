import { mutate } from "../api";
import { ConfirmTotp, EnrollTotp, type AccountData } from "../operations";
import { form, h } from "../ui";

/** Turning on sign-in codes from an authenticator app: password, QR code, a first code, then the recovery codes. */
export function twoFactor({ me }: AccountData, reload: () => Promise<void>): Node {
  const card = h("div", { class: "card" }, h("h2", {}, "Two-factor authentication"));
  if (me.totpEnabled) {
    card.append(h("p", {}, "On: signing in asks for a code from your authenticator app."));
    return card;
  }
  // Turning it on asks for the password: an account made by an identity provider has none to give.
  if (!me.hasPassword) {
    card.append(h("p", {}, "Off. Turning it on asks for your password, and this account signs in without one."));
    return card;
  }
  const step = (...content: Node[]) => card.replaceChildren(card.firstChild!, ...content);
  const enroll = form(
    [{ name: "currentPassword", label: "Your password", type: "password", autocomplete: "current-password" }],
    "Turn on",
    async (input) => {
      const { enrollTotp } = await mutate<{ enrollTotp: { secret: string; qrCodeDataUrl: string } }>(EnrollTotp, input);
      step(
        h("p", {}, "Scan this code with your authenticator app, then enter the code it shows."),
        h("img", {
          src: enrollTotp.qrCodeDataUrl,
          alt: "QR code of the authenticator secret",
          width: "200",
          height: "200",
        }),
        h("p", {}, "Or type the secret: ", h("code", { "data-secret": enrollTotp.secret }, enrollTotp.secret)),
        form([{ name: "code", label: "Code", autocomplete: "one-time-code" }], "Confirm", async ({ code }) => {
          const { confirmTotp } = await mutate<{ confirmTotp: string[] }>(ConfirmTotp, { code });
          step(
            h(
              "p",
              {},
              "Two-factor authentication is on. Keep these recovery codes somewhere safe: each signs you in once without the app.",
            ),
            h("ul", { class: "codes" }, ...confirmTotp.map((recoveryCode) => h("li", {}, h("code", {}, recoveryCode)))),
            h("button", { type: "button", onclick: () => void reload() }, "Done"),
          );
        }),
      );
    },
  );
  card.append(h("p", {}, "Off. Turn it on to ask for a code from an authenticator app at every sign-in."), enroll);
  return card;
}
