import { ApiError, endSession, isSignedIn } from "./api";
import { h } from "./ui";

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
  let content: Node;
  try {
    content = await page.render();
  } catch (error) {
    // The session ended elsewhere (revoked from another device, say): sign in again.
    if (error instanceof ApiError && error.code === "UNAUTHENTICATED") {
      endSession();
      return navigate("/sign-in", true);
    }
    content = h(
      "p",
      { class: "error", role: "alert" },
      error instanceof ApiError ? error.message : "Something went wrong.",
    );
  }
  // A page that sent the user elsewhere while it was drawn shows nothing itself.
  if (location.pathname === page.path) document.getElementById("app")!.replaceChildren(content);
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
