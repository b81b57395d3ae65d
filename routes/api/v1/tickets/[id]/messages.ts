import { define } from "../../../../../lib/state.ts";
import { field, json, readJson, ticketIdParam } from "../../../../../lib/http/validate.ts";
import { assertSignedIn } from "../../../../../lib/auth/guard.ts";
import { replyToTicket } from "../../../../../lib/helpdesk.ts";

export const handler = define.handlers({
  async POST(ctx) {
    assertSignedIn(ctx.state);
    const id = ticketIdParam(ctx.params.id);
    const body = await readJson(ctx.req);
    const text = field.string(body, "body", { required: true, max: 200_000, trim: false });
    const message = await replyToTicket(ctx.state.svc, ctx.state.user, id, text);
    return json({ message }, 201);
  },
});
