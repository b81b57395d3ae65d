import { define } from "../../../../../lib/state.ts";
import { field, json, readJson, ticketIdParam } from "../../../../../lib/http/validate.ts";
import { assertSignedIn } from "../../../../../lib/auth/guard.ts";
import { updateTicket } from "../../../../../lib/helpdesk.ts";

export const handler = define.handlers({
  async POST(ctx) {
    assertSignedIn(ctx.state);
    const id = ticketIdParam(ctx.params.id);
    const body = await readJson(ctx.req);
    const customer_id = field.string(body, "customer_id", { required: true, max: 64 });
    return json({ ticket: await updateTicket(ctx.state.svc, ctx.state.user, id, { customer_id }) });
  },
});
