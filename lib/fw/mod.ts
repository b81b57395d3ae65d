/**
 * A small Fresh-2-style web layer on Hono: file-system routes from a manifest, layouts,
 * middleware, `_404`/`_error`, and Preact islands bundled by esbuild.
 * @module
 */
export { HttpError } from "./http_error.ts";
export { createDefine, type Define, isPageResponse, page } from "./define.ts";
export { type App, type AppOptions, createApp, IMMUTABLE, JS_PREFIX } from "./app.ts";
export type {
  Context,
  DataOf,
  Handler,
  Handlers,
  Manifest,
  Method,
  Middleware,
  PageProps,
  PageResponse,
  RouteConfig,
  RouteModule,
} from "./types.ts";
