import { define } from "../lib/state.ts";
import { HttpError } from "../lib/fw/mod.ts";
import { json } from "../lib/http/validate.ts";

export const handler = define.handlers((ctx) => {
  if (ctx.url.pathname.startsWith("/api/")) {
    return json(
      { error: `No route ${ctx.req.method} ${ctx.url.pathname}`, code: "not_found" },
      404,
    );
  }
  throw new HttpError(404, "This page does not exist", "not_found");
});
