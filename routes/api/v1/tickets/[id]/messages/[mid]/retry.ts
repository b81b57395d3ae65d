import { define } from "../../../../../../../lib/state.ts";
import { json, ticketIdParam } from "../../../../../../../lib/http/validate.ts";
import { retryDelivery } from "../../../../../../../lib/mail/outbound_plan.ts";

export const handler = define.handlers({
  async POST(ctx) {
    const id = ticketIdParam(ctx.params.id);
    const message = await retryDelivery(ctx.state.svc, id, ctx.params.mid ?? "");
    return json({ message });
  },
});
