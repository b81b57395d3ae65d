/**
 * The Inbox list. Server-rendered, then kept current: any `ticket` or `inbox` event on the
 * live socket (and every reconnect) re-fetches the page being shown and patches the list in
 * place. Rows are keyed by ticket id, so the DOM of unchanged rows (and the focus on a link)
 * stays; the scroll position is left alone.
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { ComponentChildren } from "preact";
import type { Ticket } from "../lib/db/tickets.ts";
import { live } from "../lib/live/client.ts";
import { api, errorText } from "../components/api.ts";
import { TicketList } from "../components/ticket_list.tsx";

/** Props: the page as the server rendered it. */
export interface InboxListProps {
  tickets: Ticket[];
  unread: number;
  total: number;
  /** Cursor of the page shown (null: the newest page). */
  cursor: string | null;
  /** Cursor of the next (older) page, null when this is the last. */
  next: string | null;
  /** Server time of rendering, so relative times match during hydration. */
  now: number;
  /** Server-rendered controls for the page head (a slot: e.g. the New ticket island). */
  actions?: ComponentChildren;
}

interface InboxPage {
  tickets: Ticket[];
  unread: number;
  total: number;
  cursor: string | null;
}

export default function InboxList(props: InboxListProps) {
  const tickets = useSignal(props.tickets);
  const counts = useSignal({ unread: props.unread, total: props.total });
  const next = useSignal(props.next);
  const now = useSignal(props.now);
  const error = useSignal<string | null>(null);

  useEffect(() => {
    const client = live();
    let timer: ReturnType<typeof setTimeout> | null = null;
    let running = false;
    let again = false;
    const reload = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        const q = props.cursor ? `?cursor=${encodeURIComponent(props.cursor)}` : "";
        const page = await api<InboxPage>("GET", `/api/v1/inbox${q}`);
        tickets.value = page.tickets;
        counts.value = { unread: page.unread, total: page.total };
        next.value = page.cursor;
        now.value = Date.now();
        error.value = null;
      } catch (err) {
        error.value = `Could not refresh the Inbox: ${errorText(err)}`;
      } finally {
        running = false;
        if (again) {
          again = false;
          schedule();
        }
      }
    };
    // Events come in bursts (a poll storing several mails): one fetch per burst
    const schedule = () => {
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        reload();
      }, 150);
    };
    const offs = [
      client.on("ticket", schedule),
      client.on("inbox", (ev) => {
        const c = counts.peek();
        if (ev.unread !== c.unread || ev.total !== c.total) schedule();
      }),
      client.onConnect(schedule),
    ];
    // keep "5 min ago" honest on a page left open
    const tick = setInterval(() => now.value = Date.now(), 60_000);
    return () => {
      offs.forEach((off) => off());
      clearInterval(tick);
      if (timer !== null) clearTimeout(timer);
    };
  }, []);

  const { unread, total } = counts.value;
  return (
    <section class="inbox" aria-labelledby="inbox-title">
      <header class="page-head">
        <div>
          <h1 id="inbox-title">Inbox</h1>
          <p class="muted" data-inbox-counts="">
            {total === 0
              ? "No open tickets waiting for a customer."
              : `${unread} unread of ${total} open ${total === 1 ? "ticket" : "tickets"}`}
          </p>
        </div>
        {props.actions}
      </header>
      {error.value ? <p class="alert alert-error" role="alert">{error.value}</p> : null}
      <TicketList
        tickets={tickets.value}
        label="Inbox tickets"
        empty={props.cursor
          ? "No older tickets."
          : "The Inbox is empty. New mail will show up here."}
        now={now.value}
      />
      {props.cursor || next.value
        ? (
          <nav class="pager" aria-label="Inbox pages">
            {props.cursor ? <a href="/inbox" class="button">← Newest</a> : <span />}
            {next.value
              ? (
                <a href={`/inbox?cursor=${encodeURIComponent(next.value)}`} class="button">
                  Older →
                </a>
              )
              : null}
          </nav>
        )
        : null}
    </section>
  );
}
