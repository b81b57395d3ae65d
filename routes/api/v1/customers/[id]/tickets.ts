import { define } from "../../../../../lib/state.ts";
import { json } from "../../../../../lib/http/validate.ts";
import { assertSignedIn } from "../../../../../lib/auth/guard.ts";
import { customerTicketIds, requireCustomer } from "../../../../../lib/db/customers.ts";
import { getTickets, publicTickets } from "../../../../../lib/db/tickets.ts";

export const handler = define.handlers({
  async GET(ctx) {
    assertSignedIn(ctx.state);
    const kv = ctx.state.svc.kv;
    await requireCustomer(kv, ctx.params.id);
    const ids = await customerTicketIds(kv, ctx.params.id);
    return json({ tickets: await publicTickets(kv, ctx.state.user.id, await getTickets(kv, ids)) });
  },
});
