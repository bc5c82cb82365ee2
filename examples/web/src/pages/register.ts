import { mutate, startSession } from "../api";
import { Register, type Tokens } from "../operations";
import { navigate, type Page } from "../router";
import { form, h } from "../ui";
import { link } from "./sign-in";

export const register: Page = {
  path: "/register",
  title: "Register",
  access: "signed-out",
  render: () =>
    h(
      "section",
      {},
      h("h1", {}, "Register"),
      form(
        [
          { name: "email", label: "E-mail", type: "email", autocomplete: "email" },
          { name: "username", label: "Username", autocomplete: "username" },
          { name: "password", label: "Password", type: "password", autocomplete: "new-password" },
        ],
        "Register",
        async (input) => {
          startSession((await mutate<{ register: Tokens }>(Register, { input })).register);
          await navigate("/account");
        },
      ),
      h("p", {}, "Have an account? ", h("a", { href: "/sign-in", onclick: link("/sign-in") }, "Sign in")),
    ),
};
