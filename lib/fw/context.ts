/**
 * Builds the per-request `Context` and runs a middleware chain the Fresh way:
 * each step gets the same context and continues with `ctx.next()`.
 * @module
 */
import type { Context, Middleware } from "./types.ts";

/** Fields a context starts with. */
export interface ContextInit<State> {
  req: Request;
  url: URL;
  params: Record<string, string>;
  state: State;
  route: string;
  info?: Deno.ServeHandlerInfo;
  error?: unknown;
  render: (ctx: Context<State>, data?: unknown, init?: ResponseInit) => Promise<Response>;
}

/** A redirect; `//host` style paths are collapsed so they cannot leave the site. */
export function redirect(path: string, status = 302): Response {
  const location = /^[/\\]{2,}/.test(path) ? "/" + path.replace(/^[/\\]+/, "") : path;
  return new Response(null, { status, headers: { location } });
}

/** A new context; `next()` throws until a chain runs it. */
export function createContext<State>(init: ContextInit<State>): Context<State> {
  const ctx: Context<State> = {
    req: init.req,
    url: init.url,
    params: init.params,
    state: init.state,
    route: init.route,
    info: init.info,
    error: init.error,
    next: () => Promise.reject(new Error("ctx.next() is only available in middleware")),
    render: (data, responseInit) => init.render(ctx, data, responseInit),
    redirect,
  };
  return ctx;
}

/** Run `chain` in order on `ctx`; the last step must answer without calling `next()`. */
export function runChain<State>(
  chain: Middleware<State>[],
  ctx: Context<State>,
): Promise<Response> {
  let reached = -1;
  const step = async (i: number): Promise<Response> => {
    if (i <= reached) throw new Error("ctx.next() called more than once");
    reached = i;
    const fn = chain[i];
    if (!fn) throw new Error("ctx.next() called by the last handler in the chain");
    ctx.next = () => step(i + 1);
    const res = await fn(ctx);
    if (!(res instanceof Response)) {
      throw new TypeError(`middleware #${i} returned ${typeof res}, not a Response`);
    }
    return res;
  };
  return step(0);
}
