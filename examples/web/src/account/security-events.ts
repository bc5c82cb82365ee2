import type { AccountData } from "../operations";
import { h, when } from "../ui";

export function securityEvents({ securityEvents }: AccountData): Node {
  return h(
    "div",
    { class: "card" },
    h("h2", {}, "Recent security events"),
    h(
      "ul",
      { class: "events" },
      ...securityEvents.edges.map(({ node }) =>
        h(
          "li",
          {},
          h("span", {}, node.kind.replaceAll("_", " ")),
          h("small", {}, `${when(node.at)}${node.ip ? ` · ${node.ip}` : ""}`),
        ),
      ),
    ),
  );
}
