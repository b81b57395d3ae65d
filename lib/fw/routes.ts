/**
 * Manifest -> route table: Fresh 2's file-system conventions, with no disk access, so
 * routing can be tested from in-memory module objects.
 * @module
 */
import type { ComponentType } from "preact";
import type { Manifest, Middleware, RouteConfig, RouteModule } from "./types.ts";

// deno-lint-ignore no-explicit-any
export type AnyComponent = ComponentType<any>;

/** A layout in a route's chain, outermost first. */
export interface LayoutEntry {
  key: string;
  component: AnyComponent;
}

/** A module that renders for a whole folder scope (`_404`, `_error`). */
export interface ScopedPage {
  key: string;
  module: RouteModule;
  /** Middleware from the root down to this module's folder. */
  middleware: Middleware<unknown>[];
  layouts: LayoutEntry[];
}

/** One routable file. */
export interface RouteEntry {
  key: string;
  module: RouteModule;
  /** Hono patterns to register (a catch-all also answers its folder's own path). */
  patterns: string[];
  /** Pattern shown as `ctx.route`, e.g. `/tickets/:id`. */
  route: string;
  /** Middleware from the root down to the route's folder. */
  middleware: Middleware<unknown>[];
  layouts: LayoutEntry[];
  /** Nearest `_error` module, searching from the route's folder up. */
  error?: ScopedPage;
  /** Sort rank per URL segment: 0 static, 1 param, 2 catch-all. */
  ranks: number[];
  segments: string[];
}

/** A not-found scope: `_404` of a folder, matched by URL prefix. */
export interface NotFoundEntry extends ScopedPage {
  /** URL prefix of the folder (groups removed), `/` for the root. */
  prefix: string;
  error?: ScopedPage;
}

/** Everything the app needs to route and render. */
export interface RouteTable {
  routes: RouteEntry[];
  notFound: NotFoundEntry[];
  /** Root `_app` component (the document), if any. */
  app?: AnyComponent;
  /** Root `_error`, used when nothing matched at all. */
  rootError?: ScopedPage;
}

const EXT = /\.(tsx|ts|jsx|js|mts|mjs)$/;
const SPECIAL = new Set(["_app", "_layout", "_middleware", "_404", "_error", "_500"]);

interface Folder {
  layout?: { key: string; module: RouteModule };
  middleware: Middleware<unknown>[];
  notFound?: { key: string; module: RouteModule };
  error?: { key: string; module: RouteModule };
}

interface ParsedKey {
  dirs: string[];
  name: string;
}

/** Split a manifest key into folders and file name; `null` for files routing ignores. */
export function parseRouteKey(key: string): ParsedKey | null {
  if (!key.startsWith("./routes/") || !EXT.test(key) || /_test\.\w+$/.test(key)) return null;
  const parts = key.slice("./routes/".length).replace(EXT, "").split("/");
  const name = parts.pop()!;
  if (parts.some((d) => /^\(_.*\)$/.test(d))) return null;
  return { dirs: parts, name };
}

function isGroup(seg: string): boolean {
  return /^\(.+\)$/.test(seg);
}

/** The middleware a `_middleware` module exports (`handler` or default; function or array). */
export function middlewareOf(mod: RouteModule, key: string): Middleware<unknown>[] {
  const m = mod.handler ?? mod.default;
  const list = Array.isArray(m) ? m : [m];
  for (const fn of list) {
    if (typeof fn !== "function") throw new TypeError(`${key}: middleware must be a function`);
  }
  return list as Middleware<unknown>[];
}

function configOf(mod: RouteModule | undefined): RouteConfig {
  return (mod?.config ?? {}) as RouteConfig;
}

/** Build the sorted route table from a manifest. Throws on two files claiming one URL. */
export function buildRouteTable(manifest: Manifest): RouteTable {
  const folders = new Map<string, Folder>();
  const folder = (path: string) => {
    let f = folders.get(path);
    if (!f) folders.set(path, f = { middleware: [] });
    return f;
  };
  let app: AnyComponent | undefined;
  const routeFiles: { key: string; parsed: ParsedKey; module: RouteModule }[] = [];

  for (const key of Object.keys(manifest.routes).sort()) {
    const parsed = parseRouteKey(key);
    if (!parsed) continue;
    const module = manifest.routes[key];
    const dir = parsed.dirs.join("/");
    const name = parsed.name;
    if (name === "_app") {
      if (dir !== "") throw new Error(`${key}: _app is only allowed in routes/`);
      app = module.default as AnyComponent;
    } else if (name === "_layout") folder(dir).layout = { key, module };
    else if (name === "_middleware") folder(dir).middleware = middlewareOf(module, key);
    else if (name === "_404") folder(dir).notFound = { key, module };
    else if (name === "_error" || name === "_500") {
      // _error wins over _500 when a folder has both
      if (name === "_error" || !folder(dir).error) folder(dir).error = { key, module };
    } else if (name.startsWith("_") || SPECIAL.has(name)) continue;
    else routeFiles.push({ key, parsed, module });
  }

  /** Folder paths from the root to `dirs`, inclusive. */
  const chainOf = (dirs: string[]) => dirs.map((_, i) => dirs.slice(0, i + 1).join("/"));
  const foldersOf = (dirs: string[]) => ["", ...chainOf(dirs)].map((p) => folders.get(p));

  const middlewareFor = (dirs: string[]) => foldersOf(dirs).flatMap((f) => f?.middleware ?? []);
  const layoutsFor = (dirs: string[], own?: RouteModule) => {
    if (configOf(own).skipInheritedLayouts) return [];
    let out: LayoutEntry[] = [];
    for (const f of foldersOf(dirs)) {
      if (!f?.layout) continue;
      if (configOf(f.layout.module).skipInheritedLayouts) out = [];
      out.push({ key: f.layout.key, component: f.layout.module.default as AnyComponent });
    }
    return out;
  };
  const scoped = (dirs: string[], pick: (f: Folder) => Folder["error"]) => {
    for (let i = dirs.length; i >= 0; i--) {
      const here = dirs.slice(0, i);
      const found = folders.get(here.join("/"));
      const entry = found && pick(found);
      if (entry) {
        return {
          key: entry.key,
          module: entry.module,
          middleware: middlewareFor(here),
          layouts: layoutsFor(here, entry.module),
          dirs: here,
        };
      }
    }
    return undefined;
  };
  const errorFor = (dirs: string[]): ScopedPage | undefined => {
    const s = scoped(dirs, (f) => f.error);
    return s && { key: s.key, module: s.module, middleware: s.middleware, layouts: s.layouts };
  };

  const routes: RouteEntry[] = [];
  const seen = new Map<string, string>();
  for (const { key, parsed, module } of routeFiles) {
    const segments = [...parsed.dirs.filter((d) => !isGroup(d))];
    if (parsed.name !== "index") segments.push(parsed.name);
    const ranks: number[] = [];
    const honoSegs: string[] = [];
    const shown: string[] = [];
    let catchAll = false;
    segments.forEach((seg, i) => {
      const rest = /^\[\.\.\.(\w+)\]$/.exec(seg);
      const param = /^\[(\w+)\]$/.exec(seg);
      if (rest) {
        if (i !== segments.length - 1) throw new Error(`${key}: [...${rest[1]}] must be last`);
        catchAll = true;
        ranks.push(2);
        honoSegs.push(`:${rest[1]}{.+}`);
        shown.push(`:${rest[1]}*`);
      } else if (param) {
        ranks.push(1);
        honoSegs.push(`:${param[1]}`);
        shown.push(`:${param[1]}`);
      } else {
        if (/[[\]]/.test(seg)) throw new Error(`${key}: unsupported segment "${seg}"`);
        ranks.push(0);
        honoSegs.push(seg);
        shown.push(seg);
      }
    });
    const route = "/" + shown.join("/");
    const norm = "/" + shown.map((s) => (s.endsWith("*") ? "*" : s.startsWith(":") ? ":" : s))
      .join("/");
    const clash = seen.get(norm);
    if (clash) throw new Error(`${key} and ${clash} both route ${route}`);
    seen.set(norm, key);
    const patterns = ["/" + honoSegs.join("/")];
    // Fresh lets a catch-all match zero segments too: /docs answers docs/[...rest]
    if (catchAll) patterns.push("/" + honoSegs.slice(0, -1).join("/"));
    routes.push({
      key,
      module,
      patterns,
      route,
      middleware: middlewareFor(parsed.dirs),
      layouts: layoutsFor(parsed.dirs, module),
      error: errorFor(parsed.dirs),
      ranks,
      segments,
    });
  }
  routes.sort(compareRoutes);

  const notFound: NotFoundEntry[] = [];
  for (const [path, f] of [...folders.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (!f.notFound) continue;
    const dirs = path === "" ? [] : path.split("/");
    const urlSegs = dirs.filter((d) => !isGroup(d));
    notFound.push({
      key: f.notFound.key,
      module: f.notFound.module,
      middleware: middlewareFor(dirs),
      layouts: layoutsFor(dirs, f.notFound.module),
      prefix: "/" + urlSegs.join("/"),
      error: errorFor(dirs),
    });
  }
  // Deepest prefix first; a stable sort keeps folder order for equal prefixes
  notFound.sort((a, b) => b.prefix.length - a.prefix.length);

  return { routes, notFound, app, rootError: errorFor([]) };
}

/** Static segments before `[param]` before `[...catchall]`, segment by segment. */
export function compareRoutes(a: RouteEntry, b: RouteEntry): number {
  const n = Math.min(a.ranks.length, b.ranks.length);
  for (let i = 0; i < n; i++) {
    if (a.ranks[i] !== b.ranks[i]) return a.ranks[i] - b.ranks[i];
  }
  // A catch-all also matches longer paths: the longer, more specific route goes first
  const aLast = a.ranks.at(-1) === 2, bLast = b.ranks.at(-1) === 2;
  if (aLast !== bLast) return aLast ? 1 : -1;
  if (a.ranks.length !== b.ranks.length) return a.ranks.length - b.ranks.length;
  return a.route < b.route ? -1 : a.route > b.route ? 1 : 0;
}

/** The `_404` scope for a path: the deepest folder whose URL prefix contains it. */
export function notFoundFor(table: RouteTable, path: string): NotFoundEntry | undefined {
  return table.notFound.find((e) =>
    e.prefix === "/" || path === e.prefix || path.startsWith(e.prefix + "/")
  );
}
