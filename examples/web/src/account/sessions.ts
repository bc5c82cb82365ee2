import { endSession, mutate } from "../api";
import { RevokeSession, type AccountData } from "../operations";
import { navigate } from "../router";
import { h, when } from "../ui";

/** Where the account is signed in; any session can be ended from here (this one signs you out). */
export function sessions({ sessions }: AccountData, reload: () => Promise<void>): Node {
  const revoke = async (id: string, current: boolean) => {
    await mutate(RevokeSession, { id });
    if (!current) return reload();
    endSession();
    return navigate("/sign-in");
  };
  return h(
    "div",
    { class: "card" },
    h("h2", {}, "Sessions"),
    h(
      "ul",
      { class: "sessions" },
      ...sessions.map((session) =>
        h(
          "li",
          {},
          h(
            "div",
            {},
            h("span", {}, session.userAgent ?? "unknown device"),
            h("small", {}, `${session.current ? "this browser · " : ""}last used ${when(session.lastUsedAt)}`),
          ),
          h("button", { type: "button", onclick: () => void revoke(session.id, session.current) }, "Revoke"),
        ),
      ),
    ),
  );
}
