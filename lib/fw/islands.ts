/**
 * Server side of islands: registers island components, marks where they render, records
 * their props and turns JSX given to them into server-rendered slots. Uses Preact's public
 * `options.vnode` hook, installed once per process.
 * @module
 */
import {
  type ComponentChildren,
  type ComponentType,
  createContext,
  h,
  isValidElement,
  options,
  type VNode,
} from "preact";
import { useContext } from "preact/hooks";
import { Signal } from "@preact/signals";
import { SlotRef } from "./serialize.ts";

// deno-lint-ignore no-explicit-any
type AnyComponent = ComponentType<any>;

/** One island export: the component, the file it comes from and the export name. */
export interface IslandInfo {
  /** The name written to `data-name`, e.g. `counter` or `counter.Panel`. */
  name: string;
  /** Manifest key of the module, e.g. `./islands/counter.tsx`. */
  key: string;
  exportName: string;
  component: AnyComponent;
}

/** An app's islands by component. */
export type IslandRegistry = Map<AnyComponent, IslandInfo>;

/** What one page render collects. */
export interface IslandCollector {
  registry: IslandRegistry;
  /** Islands used on the page, by name. */
  used: Map<string, IslandInfo>;
  /** Props of each island instance, indexed by `data-props-index`. */
  props: Record<string, unknown>[];
  /** Island name of each props entry (for error messages). */
  names: string[];
  nextSlot: number;
}

const RenderContext = createContext<IslandCollector | null>(null);
const InsideIsland = createContext(false);

/** Every island component known to any app in this process. */
const known = new Set<AnyComponent>();
const boundaries = new WeakMap<AnyComponent, AnyComponent>();

let installed = false;
function installHook() {
  if (installed) return;
  installed = true;
  const previous = options.vnode;
  options.vnode = (vnode: VNode) => {
    const type = vnode.type as AnyComponent;
    if (typeof type === "function" && known.has(type)) {
      (vnode as { type: unknown }).type = boundaryFor(type);
    }
    previous?.(vnode);
  };
}

/** `h(component, props)` without the hook swapping the component for its boundary. */
function direct(component: AnyComponent, props: Record<string, unknown>): VNode {
  const vnode = h(component, props);
  (vnode as { type: unknown }).type = component;
  return vnode;
}

function isJsx(value: unknown): boolean {
  // Signals pose as vnodes (so they render as text): they are data, not slots
  if (value instanceof Signal) return false;
  return isValidElement(value) || (Array.isArray(value) && value.some(isJsx));
}

function Slot(props: { id: number; children?: ComponentChildren }) {
  // Islands inside a slot are top-level again: they hydrate on their own
  return h(
    InsideIsland.Provider,
    { value: false },
    h("x-slot", { "data-slot": String(props.id) }, props.children),
  );
}

function boundaryFor(component: AnyComponent): AnyComponent {
  let boundary = boundaries.get(component);
  if (boundary) return boundary;
  boundary = function IslandBoundary(props: Record<string, unknown>) {
    const collector = useContext(RenderContext);
    const inside = useContext(InsideIsland);
    const info = collector?.registry.get(component);
    if (!collector || !info || inside) return direct(component, props);
    const sent: Record<string, unknown> = {};
    const rendered: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(props)) {
      if (k === "ref") continue;
      if (isJsx(v)) {
        const id = collector.nextSlot++;
        sent[k] = new SlotRef(id);
        rendered[k] = h(Slot, { id }, v as ComponentChildren);
      } else {
        sent[k] = v;
        rendered[k] = v;
      }
    }
    const index = collector.props.push(sent) - 1;
    collector.names.push(info.name);
    collector.used.set(info.name, info);
    return h(
      InsideIsland.Provider,
      { value: true },
      h(
        "x-island",
        // No style attribute: a strict CSP (style-src 'self') would block and report it.
        // The client runtime sets display:contents through CSSOM, which CSP allows.
        { "data-name": info.name, "data-props-index": String(index) },
        direct(component, rendered),
      ),
    );
  };
  boundaries.set(component, boundary);
  return boundary;
}

/** Island name for a manifest key and export: `counter`, `forms/settings.Save`. */
export function islandName(key: string, exportName: string): string {
  const stem = key.replace(/^\.\/islands\//, "").replace(/\.(tsx|ts|jsx|js|mts|mjs)$/, "");
  return exportName === "default" ? stem : `${stem}.${exportName}`;
}

/** Register every function export of every island module; returns the app's registry. */
export function registerIslands(islands: Record<string, Record<string, unknown>>): IslandRegistry {
  installHook();
  const registry: IslandRegistry = new Map();
  for (const key of Object.keys(islands).sort()) {
    const mod = islands[key];
    const names = Object.keys(mod).sort((a, b) =>
      a === "default" ? -1 : b === "default" ? 1 : a.localeCompare(b)
    );
    for (const exportName of names) {
      const component = mod[exportName];
      if (typeof component !== "function" || registry.has(component as AnyComponent)) continue;
      const c = component as AnyComponent;
      known.add(c);
      registry.set(c, { name: islandName(key, exportName), key, exportName, component: c });
    }
  }
  return registry;
}

/** A fresh collector for one page render. */
export function newCollector(registry: IslandRegistry): IslandCollector {
  return { registry, used: new Map(), props: [], names: [], nextSlot: 0 };
}

/** Wrap a tree so islands rendered inside it report to `collector`. */
export function withCollector(collector: IslandCollector, tree: VNode): VNode {
  return h(RenderContext.Provider, { value: collector }, tree) as VNode;
}
