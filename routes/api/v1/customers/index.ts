import { define } from "../../../../lib/state.ts";
import { field, json, readJson } from "../../../../lib/http/validate.ts";
import { createCustomer, listCustomers } from "../../../../lib/db/customers.ts";

export const handler = define.handlers({
  async GET(ctx) {
    return json({ customers: await listCustomers(ctx.state.svc.kv) });
  },
  async POST(ctx) {
    const body = await readJson(ctx.req);
    const name = field.string(body, "name", { required: true, max: 200 });
    const email = field.email(body, "email");
    const customer = await createCustomer(ctx.state.svc.kv, name, email ?? null);
    return json({ customer }, 201);
  },
});
