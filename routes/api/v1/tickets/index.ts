import { define } from "../../../../lib/state.ts";
import { field, json, readJson } from "../../../../lib/http/validate.ts";
import { assertSignedIn } from "../../../../lib/auth/guard.ts";
import { createWebTicket } from "../../../../lib/helpdesk.ts";

export const handler = define.handlers({
  async POST(ctx) {
    assertSignedIn(ctx.state);
    const body = await readJson(ctx.req);
    const ticket = await createWebTicket(ctx.state.svc, ctx.state.user, {
      subject: field.string(body, "subject", { required: true, max: 500 }),
      body: field.string(body, "body", { required: true, max: 200_000, trim: false }),
      customer_id: field.string(body, "customer_id", { max: 64 }) || undefined,
    });
    return json({ ticket }, 201);
  },
});
