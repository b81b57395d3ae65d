/**
 * Page rendering: page component inside its layouts inside `_app`, rendered with
 * preact-render-to-string, plus one module script that hydrates the islands used.
 * @module
 */
import { Fragment, h, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import type { AnyComponent, LayoutEntry } from "./routes.ts";
import type { PageProps } from "./types.ts";
import {
  type IslandCollector,
  type IslandInfo,
  type IslandRegistry,
  newCollector,
  withCollector,
} from "./islands.ts";
import { serializeProps } from "./serialize.ts";

/** Where the browser finds the runtime and each island module. */
export interface ClientAssets {
  runtimeUrl: string;
  /** URL of an island module by manifest key. */
  islandUrl(key: string): string;
}

/** Everything one page render needs. */
export interface RenderRequest {
  page: AnyComponent;
  layouts: LayoutEntry[];
  app?: AnyComponent;
  props: Omit<PageProps<unknown, unknown>, "Component">;
  registry: IslandRegistry;
  /** Called only when the page uses islands (builds bundles lazily in dev). */
  assets: () => Promise<ClientAssets>;
  /** CSP nonce for the inline script. */
  nonce?: string;
}

/** The default document when a project has no `_app`. */
function DefaultApp({ Component }: { Component: () => VNode }) {
  return h(
    "html",
    null,
    h(
      "head",
      null,
      h("meta", { charset: "utf-8" }),
      h("meta", { name: "viewport", content: "width=device-width, initial-scale=1" }),
    ),
    h("body", null, h(Component, null)),
  );
}

/** Render a full HTML document (with `<!DOCTYPE html>`). */
export async function renderPage(req: RenderRequest): Promise<string> {
  const { props } = req;
  // Innermost first: each layout gets the previous level as `Component`
  let Inner: () => VNode = () => h(req.page, { ...props, Component: () => h(Fragment, null) });
  for (const layout of [...req.layouts].reverse()) {
    const Child = Inner;
    Inner = () => h(layout.component, { ...props, Component: Child });
  }
  const App = req.app ?? DefaultApp;
  const collector = newCollector(req.registry);
  const html = renderToString(
    withCollector(collector, h(App, { ...props, Component: Inner })),
  );
  if (collector.used.size === 0) return "<!DOCTYPE html>" + html;
  const script = islandScript(collector, await req.assets(), req.nonce);
  const at = html.lastIndexOf("</body>");
  return "<!DOCTYPE html>" +
    (at === -1 ? html + script : html.slice(0, at) + script + html.slice(at));
}

function escapeAttr(s: string): string {
  return s.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The inline module script: import runtime + used islands, then hydrate. */
export function islandScript(
  collector: IslandCollector,
  assets: ClientAssets,
  nonce?: string,
): string {
  const byKey = new Map<string, IslandInfo[]>();
  for (const info of [...collector.used.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    byKey.set(info.key, [...(byKey.get(info.key) ?? []), info]);
  }
  const js = (v: string) => JSON.stringify(v).replaceAll("<", "\\u003C");
  let code = `import{boot}from${js(assets.runtimeUrl)};`;
  const entries: string[] = [];
  [...byKey.keys()].sort().forEach((key, i) => {
    code += `import*as $${i} from${js(assets.islandUrl(key))};`;
    for (const info of byKey.get(key)!) {
      entries.push(`${js(info.name)}:$${i}[${js(info.exportName)}]`);
    }
  });
  code += `boot({${entries.join(",")}},${propsText(collector)});`;
  const nonceAttr = nonce ? ` nonce="${escapeAttr(nonce)}"` : "";
  return `<script type="module"${nonceAttr}>${code}</script>`;
}

function propsText(collector: IslandCollector): string {
  try {
    return serializeProps(collector.props);
  } catch (err) {
    // Name the island whose props cannot be sent (functions, class instances...)
    for (const [i, p] of collector.props.entries()) {
      try {
        serializeProps(p);
      } catch {
        const name = collector.names[i];
        throw new Error(
          `props of island "${name}" cannot be serialized: ${(err as Error).message}`,
        );
      }
    }
    throw err;
  }
}
