import { define } from "../../../lib/state.ts";
import { page } from "../../../lib/fw/mod.ts";
import { listCustomers } from "../../../lib/db/customers.ts";
import CustomerDirectory from "../../../islands/customer_directory.tsx";

/** Customers: the list with ticket counts, and a form to add one. */
export const handler = define.handlers({
  async GET(ctx) {
    return page({ title: "Customers", customers: await listCustomers(ctx.state.svc.kv) });
  },
});

export default define.page<typeof handler>(({ data }) => (
  <div class="page">
    <CustomerDirectory customers={data.customers} />
  </div>
));
