import { define } from "../../../lib/state.ts";
import { page } from "../../../lib/fw/mod.ts";
import { assertSignedIn } from "../../../lib/auth/guard.ts";
import { customerTicketIds, publicCustomer, requireCustomer } from "../../../lib/db/customers.ts";
import { getTickets, publicTickets } from "../../../lib/db/tickets.ts";
import { TicketList } from "../../../components/ticket_list.tsx";
import { Icon } from "../../../components/icons.tsx";
import NewTicket from "../../../islands/new_ticket.tsx";

/** A customer and their tickets, newest first. */
export const handler = define.handlers({
  async GET(ctx) {
    assertSignedIn(ctx.state);
    const kv = ctx.state.svc.kv;
    const customer = await publicCustomer(kv, await requireCustomer(kv, ctx.params.id));
    const ids = await customerTicketIds(kv, customer.id);
    const tickets = await publicTickets(kv, ctx.state.user.id, await getTickets(kv, ids));
    return page({ title: customer.name, customer, tickets, now: Date.now() });
  },
});

export default define.page<typeof handler>(({ data }) => (
  <div class="page">
    <a class="back-link" href="/customers">
      <Icon name="back" /> Customers
    </a>
    <header class="page-head">
      <div>
        <h1>{data.customer.name}</h1>
        <p class="muted">
          {data.customer.email ?? "No email"} · {data.tickets.length}{" "}
          {data.tickets.length === 1 ? "ticket" : "tickets"}
        </p>
      </div>
      <NewTicket customerId={data.customer.id} />
    </header>
    <TicketList
      tickets={data.tickets}
      label={`Tickets of ${data.customer.name}`}
      empty="No tickets for this customer yet."
      now={data.now}
    />
  </div>
));
