import { ApiError, mutate } from "../api";
import { RequestEmailVerification, type AccountData } from "../operations";
import { h, when } from "../ui";

export function profile({ me }: AccountData): Node {
  const status = h("span", {}, me.emailVerified ? "verified" : "not verified yet: follow the link we mailed you");
  const resend = h(
    "button",
    {
      type: "button",
      onclick: async () => {
        try {
          await mutate(RequestEmailVerification);
          status.textContent = "a new link is on its way";
        } catch (error) {
          status.textContent = error instanceof ApiError ? error.message : "Something went wrong.";
        }
      },
    },
    "Send the link again",
  );
  return h(
    "div",
    { class: "card" },
    h("h2", {}, "Profile"),
    h(
      "dl",
      {},
      h("dt", {}, "Username"),
      h("dd", {}, me.username),
      h("dt", {}, "E-mail"),
      h("dd", {}, `${me.email} (`, status, ")"),
      h("dt", {}, "Member since"),
      h("dd", {}, when(me.createdAt)),
    ),
    !me.emailVerified && resend,
  );
}
