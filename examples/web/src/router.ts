import { isSignedIn } from "./api";

export interface Page {
  path: string;
  title: string;
  /** Only for a signed-in user (others are sent to the sign-in page), or only for others (signed-in users go to their account). */
  access: "signed-in" | "signed-out" | "anyone";
  render(): Node | Promise<Node>;
}

let pages: Page[] = [];

/** Shows the page of the current path. */
async function show(): Promise<void> {
  const page = pages.find((candidate) => candidate.path === location.pathname);
  if (!page) return navigate(isSignedIn() ? "/account" : "/sign-in", true);
  if (page.access === "signed-in" && !isSignedIn()) return navigate("/sign-in", true);
  if (page.access === "signed-out" && isSignedIn()) return navigate("/account", true);
  document.title = `${page.title}: example app`;
  document.getElementById("app")!.replaceChildren(await page.render());
}

export function navigate(path: string, replace = false): Promise<void> {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  return show();
}

export function startRouter(allPages: Page[]): Promise<void> {
  pages = allPages;
  window.addEventListener("popstate", () => void show());
  return show();
}
