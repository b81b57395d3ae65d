import { define } from "../../../../../lib/state.ts";
import { field, json, readJson, ticketIdParam } from "../../../../../lib/http/validate.ts";
import { assertSignedIn } from "../../../../../lib/auth/guard.ts";
import { updateTicket, viewTicket } from "../../../../../lib/helpdesk.ts";
import { TICKET_STATUSES } from "../../../../../lib/db/tickets.ts";
import { HttpError } from "../../../../../lib/fw/mod.ts";

export const handler = define.handlers({
  async GET(ctx) {
    assertSignedIn(ctx.state);
    return json(await viewTicket(ctx.state.svc, ctx.state.user, ticketIdParam(ctx.params.id)));
  },
  async PATCH(ctx) {
    assertSignedIn(ctx.state);
    const id = ticketIdParam(ctx.params.id);
    const body = await readJson(ctx.req);
    const status = field.oneOf(body, "status", TICKET_STATUSES);
    const subject = field.string(body, "subject", { max: 500 });
    if (subject === "") throw new HttpError(422, "subject: must not be empty", "invalid_field");
    if (status === undefined && subject === undefined) {
      throw new HttpError(422, "status or subject: give at least one", "invalid_field");
    }
    return json({
      ticket: await updateTicket(ctx.state.svc, ctx.state.user, id, { status, subject }),
    });
  },
});
