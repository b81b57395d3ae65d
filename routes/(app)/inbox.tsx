import { define } from "../../lib/state.ts";
import { HttpError, page } from "../../lib/fw/mod.ts";
import { assertSignedIn } from "../../lib/auth/guard.ts";
import { listInbox } from "../../lib/db/inbox.ts";
import InboxList from "../../islands/inbox_list.tsx";
import NewTicket from "../../islands/new_ticket.tsx";

/** The Inbox: tickets without a customer, newest activity first, 50 a page. */
export const handler = define.handlers({
  async GET(ctx) {
    assertSignedIn(ctx.state);
    const cursor = ctx.url.searchParams.get("cursor") || null;
    try {
      const inbox = await listInbox(ctx.state.svc.kv, ctx.state.user.id, {
        cursor: cursor ?? undefined,
      });
      return page({ title: "Inbox", inbox, cursor, now: Date.now() });
    } catch (err) {
      // a stale or mangled cursor: start from the newest again
      if (err instanceof HttpError && err.code === "bad_cursor") return ctx.redirect("/inbox");
      throw err;
    }
  },
});

export default define.page<typeof handler>(({ data }) => (
  <div class="page">
    <InboxList
      tickets={data.inbox.tickets}
      unread={data.inbox.unread}
      total={data.inbox.total}
      cursor={data.cursor}
      next={data.inbox.cursor}
      now={data.now}
      actions={<NewTicket customerId={null} />}
    />
  </div>
));
