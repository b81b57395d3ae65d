/**
 * Browser runtime: hydrates every `<x-island>` region of the page with its component and
 * its devalue-encoded props. Imported by the inline script the server puts at the end of
 * `<body>`; bundled by esbuild.
 * @module
 */
import { type ComponentType, h, hydrate } from "preact";
import { unflatten } from "devalue";
import { revivers } from "./revive.ts";

/** Markers must not box their content; set through CSSOM because CSP may forbid style="". */
function contents(el: Element | null) {
  if (el instanceof HTMLElement) el.style.display = "contents";
}

function Slot(props: { id: number; html: string }) {
  // During hydration Preact leaves dangerouslySetInnerHTML alone, so the server HTML
  // (and any islands inside it) stays as rendered.
  return h("x-slot", {
    "data-slot": String(props.id),
    ref: contents,
    dangerouslySetInnerHTML: { __html: props.html },
  });
}

/**
 * Hydrate the page's islands.
 * @param components island name -> component, only those on this page
 * @param flatProps devalue's flattened array of every island's props, by `data-props-index`
 */
// deno-lint-ignore no-explicit-any
export function boot(components: Record<string, ComponentType<any>>, flatProps: unknown[]): void {
  // Read every slot's HTML before any island changes the DOM
  const slots = new Map<number, string>();
  for (const el of document.querySelectorAll("x-slot[data-slot]")) {
    slots.set(Number(el.getAttribute("data-slot")), el.innerHTML);
    contents(el);
  }
  const all = unflatten(
    flatProps as never,
    revivers((id) => h(Slot, { id, html: slots.get(id) ?? "" })),
  ) as Record<string, unknown>[];
  for (const el of document.querySelectorAll<HTMLElement>("x-island[data-name]")) {
    const name = el.dataset.name!;
    const component = components[name];
    if (!component) {
      console.error(`[fw] island "${name}" was not sent to this page`);
      continue;
    }
    contents(el);
    const props = all[Number(el.dataset.propsIndex)] ?? {};
    try {
      hydrate(h(component, props), el);
      el.setAttribute("data-hydrated", "");
    } catch (err) {
      console.error(`[fw] hydrating island "${name}" failed`, err);
    }
  }
}
