import { ApiError } from "./api";
import { isCancelled } from "./webauthn";

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
  optional?: boolean;
}

/** What to tell the user of an error: the API's message; nothing for a request a newer one cancelled. */
function messageOf(error: unknown): string {
  if (isCancelled(error)) return "";
  return error instanceof ApiError ? error.message : "Something went wrong.";
}

/** Runs `task` with `button` disabled meanwhile, showing what it throws in `error`. */
async function busy(button: HTMLButtonElement, error: HTMLElement, task: () => Promise<void>): Promise<void> {
  error.textContent = "";
  button.disabled = true;
  try {
    await task();
  } catch (caught) {
    error.textContent = messageOf(caught);
  } finally {
    button.disabled = false;
  }
}

/** A button that runs `onClick`; `report` shows an error of work started elsewhere in the same place. */
export function action(label: string, onClick: () => Promise<void>): { element: Node; report(error: unknown): void } {
  const error = h("p", { class: "error", role: "alert" });
  const button: HTMLButtonElement = h(
    "button",
    { type: "button", onclick: () => void busy(button, error, onClick) },
    label,
  );
  return {
    element: h("div", { class: "action" }, button, error),
    report: (caught) => (error.textContent = messageOf(caught)),
  };
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
      onsubmit: (event) => {
        event.preventDefault();
        void busy(button, error, () => onSubmit(Object.fromEntries(new FormData(element)) as Record<string, string>));
      },
    },
    ...fields.map(({ name, label, type = "text", autocomplete = "off", optional = false }) =>
      h("label", {}, label, h("input", { name, type, autocomplete, required: !optional })),
    ),
    error,
    button,
  );
  return element;
}

export function when(date: string): string {
  return new Date(date).toLocaleString();
}
