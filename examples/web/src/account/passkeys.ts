import { ApiError, mutate } from "../api";
import {
  BeginPasskeyRegistration,
  FinishPasskeyRegistration,
  RemovePasskey,
  type AccountData,
  type PasskeyChallenge,
} from "../operations";
import { action, form, h, when } from "../ui";
import { createPasskey } from "../webauthn";

type CreationChallenge = PasskeyChallenge<PublicKeyCredentialCreationOptionsJSON>;

/** Creates a passkey on this device and adds it to the account (the password only if the sign-in is not recent). */
async function addPasskey(name: string, currentPassword?: string): Promise<void> {
  const { beginPasskeyRegistration: challenge } = await mutate<{ beginPasskeyRegistration: CreationChallenge }>(
    BeginPasskeyRegistration,
    { currentPassword },
  );
  const response = await createPasskey(challenge.options);
  await mutate(FinishPasskeyRegistration, { challengeId: challenge.challengeId, response, name: name || null });
}

/** The account's passkeys, each removable, and a new one added from this device. */
export function passkeys({ me }: AccountData, reload: () => Promise<void>): Node {
  const addAndShow = async (name: string, currentPassword?: string) => {
    await addPasskey(name, currentPassword);
    await reload();
  };
  const adding: HTMLFormElement = form(
    [{ name: "name", label: "Name of a new passkey (optional)", optional: true }],
    "Add a passkey",
    async ({ name = "" }) => {
      try {
        await addAndShow(name);
      } catch (error) {
        // Signed in a while ago: the password first, then the same passkey.
        if (!(error instanceof ApiError && error.code === "REAUTHENTICATION_REQUIRED")) throw error;
        const password = {
          name: "currentPassword",
          label: "Your password",
          type: "password",
          autocomplete: "current-password",
        };
        adding.replaceWith(form([password], "Continue", ({ currentPassword }) => addAndShow(name, currentPassword)));
      }
    },
  );
  return h(
    "div",
    { class: "card" },
    h("h2", {}, "Passkeys"),
    me.passkeys.length === 0 &&
      h("p", {}, "None yet: sign in with your fingerprint, face or screen lock instead of a password."),
    h(
      "ul",
      { class: "passkeys" },
      ...me.passkeys.map((passkey) =>
        h(
          "li",
          {},
          h(
            "div",
            {},
            h("span", {}, passkey.name),
            h(
              "small",
              {},
              `added ${when(passkey.createdAt)} · ${passkey.lastUsedAt ? `last used ${when(passkey.lastUsedAt)}` : "never used"}`,
            ),
          ),
          action("Remove", async () => {
            await mutate(RemovePasskey, { id: passkey.id });
            await reload();
          }).element,
        ),
      ),
    ),
    adding,
  );
}
