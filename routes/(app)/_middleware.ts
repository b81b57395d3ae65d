import { define } from "../../lib/state.ts";
import { loadNav } from "../../components/nav.ts";

/** Signed-in pages: read the sidebar's badge counts before the layout renders. */
export const handler = define.middleware(async (ctx) => {
  if (ctx.req.method === "GET" || ctx.req.method === "HEAD") await loadNav(ctx.state);
  return await ctx.next();
});
