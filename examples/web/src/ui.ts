import { ApiError } from "./api";

type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | boolean | ((event: Event) => void)>;

/** An element with its attributes (`onclick`… as listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else if (value !== false) element.setAttribute(name, value);
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

export interface Field {
  name: string;
  label: string;
  type?: string;
  autocomplete?: string;
}

/**
 * A form whose submit calls `onSubmit` with its values; while it runs the button is disabled, and an
 * error it throws is shown above the button.
 */
export function form(
  fields: Field[],
  submitLabel: string,
  onSubmit: (values: Record<string, string>) => Promise<void>,
): HTMLFormElement {
  const error = h("p", { class: "error", role: "alert" });
  const button = h("button", { type: "submit" }, submitLabel);
  const element = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        button.disabled = true;
        try {
          await onSubmit(Object.fromEntries(new FormData(element)) as Record<string, string>);
        } catch (caught) {
          error.textContent = caught instanceof ApiError ? caught.message : "Something went wrong.";
        } finally {
          button.disabled = false;
        }
      },
    },
    ...fields.map(({ name, label, type = "text", autocomplete = "off" }) =>
      h("label", {}, label, h("input", { name, type, autocomplete, required: true })),
    ),
    error,
    button,
  );
  return element;
}

export function when(date: string): string {
  return new Date(date).toLocaleString();
}
