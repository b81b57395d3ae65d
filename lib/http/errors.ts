/**
 * One place that maps thrown errors to answers: JSON `{error, code}` under /api, a page or a
 * redirect to /login elsewhere. Unknown errors are logged and shown as 500 without details.
 */
import { HttpError } from "../fw/mod.ts";
import type { Context } from "../fw/mod.ts";
import type { State } from "../state.ts";
import { json } from "./validate.ts";
import { logger } from "../log.ts";

const log = logger("http");

export function errorView(err: unknown): { status: number; message: string; code: string } {
  if (err instanceof HttpError) return { status: err.status, message: err.message, code: err.code };
  return { status: 500, message: "Something went wrong on our side", code: "internal" };
}

export async function errorResponse(ctx: Context<State>): Promise<Response> {
  const err = ctx.error;
  const v = errorView(err);
  if (!(err instanceof HttpError)) {
    log.error("unhandled error", {
      method: ctx.req.method,
      path: ctx.url.pathname,
      error: err instanceof Error
        ? { name: err.name, message: err.message, stack: err.stack }
        : String(err),
    });
  }
  if (ctx.url.pathname.startsWith("/api/")) {
    const body: Record<string, unknown> = { error: v.message, code: v.code };
    const extra = err as { field?: string; retryAfter?: number };
    const field = extra?.field ??
      (v.code === "invalid_field" ? /^([\w.]+):/.exec(v.message)?.[1] : undefined);
    if (field) body.field = field;
    const headers: Record<string, string> = {};
    if (extra?.retryAfter) headers["retry-after"] = String(extra.retryAfter);
    if (
      v.status === 405 && err instanceof HttpError && (err as HttpError & { allow?: string }).allow
    ) {
      headers["allow"] = (err as HttpError & { allow?: string }).allow!;
    }
    return json(body, v.status, headers);
  }
  if (v.status === 401) {
    return ctx.redirect(`/login?next=${encodeURIComponent(ctx.url.pathname + ctx.url.search)}`);
  }
  return await ctx.render(undefined, { status: v.status });
}
