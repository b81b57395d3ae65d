/**
 * `page()` and `createDefine()`: the helpers route files use to stay typed.
 * @module
 */
import type { VNode } from "preact";
import type { DataOf, Handlers, Middleware, PageProps, PageResponse } from "./types.ts";

const PAGE = Symbol.for("fw.page");

/** Tell the framework to render this route's page with `data` (and optional status/headers). */
export function page<Data>(
  data: Data,
  init?: { status?: number; headers?: HeadersInit },
): PageResponse<Data> {
  return {
    data,
    status: init?.status,
    headers: init?.headers,
    [PAGE]: true,
  } as unknown as PageResponse<Data>;
}

/** True for values made by `page()`. */
export function isPageResponse(value: unknown): value is PageResponse<unknown> {
  return typeof value === "object" && value !== null && PAGE in value;
}

/** The typed helpers returned by `createDefine()`. */
export interface Define<State> {
  /** Identity: types a route's handlers. */
  handlers<D>(h: Handlers<State, D>): typeof h;
  /** Identity: types a page; `define.page<typeof handler>(...)` infers `data`. */
  page<H = unknown>(
    c: (props: PageProps<DataOf<H>, State>) => VNode | null,
  ): typeof c;
  /** Identity: types middleware (a function or an array). */
  middleware(m: Middleware<State> | Middleware<State>[]): typeof m;
}

/** Helpers that carry the app's `State` type into route files (Fresh 2's `createDefine`). */
export function createDefine<State>(): Define<State> {
  return {
    handlers: (h) => h,
    page: (c) => c,
    middleware: (m) => m,
  };
}
