import { define } from "../../../lib/state.ts";
import { page } from "../../../lib/fw/mod.ts";
import { assertSignedIn } from "../../../lib/auth/guard.ts";
import { ticketIdParam } from "../../../lib/http/validate.ts";
import { viewTicket } from "../../../lib/helpdesk.ts";
import { listCustomers } from "../../../lib/db/customers.ts";
import { loadNav } from "../../../components/nav.ts";
import TicketView from "../../../islands/ticket_view.tsx";

/** A ticket: header, thread, reply box, status and customer. Opening it marks it read. */
export const handler = define.handlers({
  async GET(ctx) {
    assertSignedIn(ctx.state);
    const id = ticketIdParam(ctx.params.id);
    const { svc, user } = ctx.state;
    const [view, customers] = await Promise.all([
      viewTicket(svc, user, id),
      listCustomers(svc.kv),
    ]);
    await loadNav(ctx.state); // the badge counts without this ticket's unread mark
    return page({
      title: `#${id} ${view.ticket.subject}`,
      ticket: view.ticket,
      messages: view.messages,
      customers: customers.map((c) => ({ id: c.id, name: c.name, email: c.email })),
      me: { id: user.id, name: user.name },
      now: Date.now(),
    });
  },
});

export default define.page<typeof handler>(({ data }) => (
  <div class="page page-ticket">
    <TicketView
      ticket={data.ticket}
      messages={data.messages}
      customers={data.customers}
      me={data.me}
      now={data.now}
    />
  </div>
));
