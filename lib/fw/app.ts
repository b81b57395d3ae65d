/**
 * `createApp`: the manifest's routes on Hono, each registered once with its whole
 * middleware chain, plus static files, island bundles, `_404` and `_error`.
 * @module
 */
import { Hono } from "hono";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AnyComponent,
  buildRouteTable,
  notFoundFor,
  type RouteEntry,
  type ScopedPage,
} from "./routes.ts";
import { createContext, runChain } from "./context.ts";
import { isPageResponse } from "./define.ts";
import { HttpError, statusOf } from "./http_error.ts";
import { registerIslands } from "./islands.ts";
import { type ClientAssets, renderPage } from "./render.ts";
import { type BuildOutput, bundle, stopBundler } from "./bundler.ts";
import { readSnapshot } from "./snapshot.ts";
import { etagOf, matchesEtag, staticFiles } from "./static_files.ts";
import type { Context, Handler, Manifest, Method, Middleware, RouteModule } from "./types.ts";

/** Options of `createApp`. */
export interface AppOptions<State> {
  /** Fresh state per request (services are passed in here). */
  initialState: (req: Request) => State;
  /** Served at "/" with ETag and revalidation; a relative path is resolved from the project root. */
  staticDir?: string | URL;
  /** dev: esbuild in memory on first need; prod: the `deno task build` snapshot if present. */
  build?: { mode: "dev" | "prod"; snapshotDir?: string | URL };
  /** Middleware run before every route's own chain (and before `_404`). */
  middleware?: Middleware<State>[];
}

/** What `createApp` returns. */
export interface App {
  fetch: (req: Request, info?: Deno.ServeHandlerInfo) => Promise<Response>;
  hono: Hono;
  /** Stops esbuild. */
  close(): Promise<void>;
}

/** URL prefix of island bundles. */
export const JS_PREFIX = "/_fw/js";
/** Cache-Control of content-hashed bundles. */
export const IMMUTABLE = "public, max-age=31536000, immutable";

const METHODS: Method[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

class MethodNotAllowed extends HttpError {
  constructor(readonly allow: string) {
    super(405, "Method Not Allowed");
  }
}

function toPath(p: string | URL, root: string): string {
  if (p instanceof URL || p.startsWith("file:")) return fileURLToPath(p);
  return p.startsWith("/") ? p : join(root, p);
}

function logError(req: Request, err: unknown) {
  console.error(JSON.stringify({
    level: "error",
    scope: "fw",
    msg: "request failed",
    method: req.method,
    path: new URL(req.url).pathname,
    error: err instanceof Error ? (err.stack ?? err.message) : String(err),
  }));
}

/** Build the app from a manifest. */
export function createApp<State>(manifest: Manifest, opts: AppOptions<State>): App {
  const table = buildRouteTable(manifest);
  const registry = registerIslands(manifest.islands);
  const root = fileURLToPath(manifest.baseUrl);
  const islandKeys = Object.keys(manifest.islands).sort();
  const mode = opts.build?.mode ?? "dev";
  const snapshotDir = toPath(opts.build?.snapshotDir ?? "_fresh", root);
  const global = (opts.middleware ?? []) as Middleware<unknown>[];
  const serveStatic = opts.staticDir ? staticFiles(toPath(opts.staticDir, root)) : null;

  let building: Promise<BuildOutput> | null = null;
  const getBuild = () => {
    building ??= (async () => {
      const snap = mode === "prod" ? await readSnapshot(snapshotDir, islandKeys) : null;
      return snap ?? await bundle({ root, islandKeys, mode });
    })().catch((err) => {
      building = null; // let the next request retry
      throw err;
    });
    return building;
  };
  const assets = async (): Promise<ClientAssets> => {
    const out = await getBuild();
    const base = `${JS_PREFIX}/${out.buildId}/`;
    return { runtimeUrl: base + out.runtime, islandUrl: (key) => base + out.islands[key] };
  };

  /** Render `page` in `layouts` and `_app`, as the HTML response. */
  const renderWith = async (
    ctx: Context<unknown>,
    page: AnyComponent,
    layouts: RouteEntry["layouts"],
    module: RouteModule,
    data: unknown,
    init?: ResponseInit,
  ) => {
    const skipApp = (module.config as { skipAppWrapper?: boolean } | undefined)?.skipAppWrapper;
    const nonce = (ctx.state as { cspNonce?: unknown } | null)?.cspNonce;
    const html = await renderPage({
      page,
      layouts,
      app: skipApp ? undefined : table.app,
      props: {
        data,
        url: ctx.url,
        params: ctx.params,
        state: ctx.state,
        route: ctx.route,
        error: ctx.error,
      },
      registry,
      assets,
      nonce: typeof nonce === "string" ? nonce : undefined,
    });
    const headers = new Headers(init?.headers);
    if (!headers.has("content-type")) headers.set("content-type", "text/html; charset=utf-8");
    return new Response(html, {
      status: init?.status ?? 200,
      statusText: init?.statusText,
      headers,
    });
  };

  const renderer =
    (key: string, module: RouteModule, layouts: RouteEntry["layouts"]) =>
    (ctx: Context<unknown>, data?: unknown, init?: ResponseInit) => {
      const page = module.default;
      if (typeof page !== "function") {
        return Promise.reject(new Error(`${key} has no default export to render`));
      }
      return renderWith(ctx, page as AnyComponent, layouts, module, data, init);
    };

  /** Turn a handler's result into a response (rendering `page()` results). */
  const answer = async (ctx: Context<unknown>, fn: Handler<unknown>, status?: number) => {
    const result = await fn(ctx);
    if (result instanceof Response) return result;
    if (isPageResponse(result)) {
      return ctx.render(result.data, { status: result.status ?? status, headers: result.headers });
    }
    throw new TypeError(`handler returned ${typeof result}, not a Response or page()`);
  };

  const routeHandler = (entry: RouteEntry): Middleware<unknown> => (ctx) => {
    const { handler, default: page } = entry.module;
    const method = ctx.req.method as Method;
    if (typeof handler === "function") return answer(ctx, handler as Handler<unknown>);
    const byMethod = (handler ?? {}) as Partial<Record<Method, Handler<unknown>>>;
    const canRender = typeof page === "function";
    let fn = byMethod[method] ?? (method === "HEAD" ? byMethod.GET : undefined);
    if (!fn && canRender && (method === "GET" || method === "HEAD")) fn = (c) => c.render();
    if (!fn) {
      const allowed = METHODS.filter((m) =>
        byMethod[m] || (canRender && m === "GET") ||
        (m === "HEAD" && (byMethod.GET || canRender))
      );
      throw new MethodNotAllowed(allowed.join(", "));
    }
    return answer(ctx, fn);
  };

  /** Fallback when no `_error` can answer: plain text. */
  const plainError = (err: unknown) => {
    const status = statusOf(err);
    const text = err instanceof HttpError ? err.message : "Internal Server Error";
    return new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
  };

  /** `_404` page (or its handler) for ctx's URL, if there is one. */
  const notFoundPage = (ctx: Context<unknown>) => {
    const scope = notFoundFor(table, ctx.url.pathname);
    if (!scope) return null;
    const render = renderer(scope.key, scope.module, scope.layouts);
    ctx.render = (data, init) => render(ctx, data, { ...init, status: init?.status ?? 404 });
    const h = scope.module.handler;
    if (typeof h === "function") return answer(ctx, h as Handler<unknown>, 404);
    return ctx.render();
  };

  /** The error flow: `_error` handler, else `_404` for 404s, else `_error` page, else text. */
  const handleError = async (
    err: unknown,
    scope: ScopedPage | undefined,
    ctx: Context<unknown>,
  ) => {
    const status = statusOf(err);
    ctx.error = err;
    const h = scope?.module.handler;
    // An _error handler owns logging; without one the framework logs server errors itself
    if (status >= 500 && typeof h !== "function") logError(ctx.req, err);
    let res: Response;
    try {
      if (scope && typeof h === "function") {
        const render = renderer(scope.key, scope.module, scope.layouts);
        ctx.render = (data, init) => render(ctx, data, { ...init, status: init?.status ?? status });
        res = await answer(ctx, h as Handler<unknown>, status);
      } else if (status === 404 && notFoundFor(table, ctx.url.pathname)) {
        res = await notFoundPage(ctx)!;
      } else if (scope && typeof scope.module.default === "function") {
        res = await renderer(scope.key, scope.module, scope.layouts)(ctx, undefined, { status });
      } else {
        res = plainError(err);
      }
    } catch (inner) {
      logError(ctx.req, inner);
      res = plainError(err);
    }
    if (err instanceof MethodNotAllowed && res.status !== 101 && !res.headers.has("allow")) {
      try {
        res.headers.set("allow", err.allow);
      } catch {
        res = new Response(res.body, res);
        res.headers.set("allow", err.allow);
      }
    }
    return res;
  };

  const run = async (
    req: Request,
    route: string,
    params: Record<string, string>,
    info: Deno.ServeHandlerInfo | undefined,
    chain: Middleware<unknown>[],
    errorScope: ScopedPage | undefined,
    render: (ctx: Context<unknown>, data?: unknown, init?: ResponseInit) => Promise<Response>,
  ) => {
    const ctx = createContext<unknown>({
      req,
      url: new URL(req.url),
      params,
      state: opts.initialState(req),
      route,
      info,
      render,
    });
    try {
      // The handler's Response is returned as is: a 101 WebSocket upgrade must keep its identity
      return await runChain([...global, ...chain], ctx);
    } catch (err) {
      return handleError(err, errorScope, ctx);
    }
  };

  const hono = new Hono();
  const infoOf = (env: unknown) => (env as { info?: Deno.ServeHandlerInfo } | undefined)?.info;

  if (serveStatic) {
    hono.use("*", async (c, next) => {
      // Only paths with a dot can name a file: spares a stat() on every route request
      const res = c.req.path.includes(".") ? await serveStatic(c.req.raw, c.req.path) : null;
      if (res) return res;
      await next();
    });
  }

  hono.get(`${JS_PREFIX}/:buildId/:file`, async (c) => {
    const out = await getBuild();
    const bytes = c.req.param("buildId") === out.buildId && out.files.get(c.req.param("file"));
    if (!bytes) return new Response("Not Found", { status: 404 });
    const etag = await etagOf(bytes);
    const headers = {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": IMMUTABLE,
      "x-content-type-options": "nosniff",
      etag,
    };
    if (matchesEtag(c.req.raw, etag)) return new Response(null, { status: 304, headers });
    return new Response(bytes as BodyInit, { headers });
  });

  for (const entry of table.routes) {
    const chain = [...entry.middleware, routeHandler(entry)];
    const render = renderer(entry.key, entry.module, entry.layouts);
    const catchAll = /:(\w+)\*$/.exec(entry.route)?.[1];
    for (const pattern of entry.patterns) {
      hono.all(pattern, (c) => {
        const params = c.req.param() as Record<string, string>;
        if (catchAll && params[catchAll] === undefined) params[catchAll] = "";
        return run(c.req.raw, entry.route, params, infoOf(c.env), chain, entry.error, render);
      });
    }
  }

  hono.notFound((c) => {
    const scope = notFoundFor(table, c.req.path);
    const chain: Middleware<unknown>[] = [
      ...(scope?.middleware ?? []),
      (ctx) => notFoundPage(ctx) ?? Promise.reject(new HttpError(404, "Not Found")),
    ];
    const fallback = (ctx: Context<unknown>) => Promise.resolve(plainError(ctx.error));
    return run(c.req.raw, "", {}, infoOf(c.env), chain, scope?.error ?? table.rootError, fallback);
  });

  hono.onError((err, c) => {
    logError(c.req.raw, err);
    return plainError(err);
  });

  return {
    fetch: (req, info) => Promise.resolve(hono.fetch(req, { info })),
    hono,
    close: () => stopBundler(),
  };
}
