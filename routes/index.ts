import { define } from "../lib/state.ts";

/** `/` is the Inbox. */
export const handler = define.handlers({
  GET: (ctx) => ctx.redirect("/inbox"),
});
