/**
 * The ticket page, live: header (subject, status, sender, ✉ for email tickets, viewers), the
 * thread, the reply box, status change and customer assignment. Subscribes to the ticket on the
 * shared socket: new messages are appended at the bottom (or replaced in place when their
 * delivery state changes), changes by other agents replace the ticket, `presence` shows who
 * else has it open. Every (re)connect re-fetches the ticket so nothing is missed.
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { Ticket } from "../lib/db/tickets.ts";
import type { Message } from "../lib/db/messages.ts";
import { live, type LiveEvent } from "../lib/live/client.ts";
import { api, errorText } from "../components/api.ts";
import { MessageItem } from "../components/message.tsx";
import { ReplyBox } from "../components/reply_box.tsx";
import { Avatar, StatusPill, Time } from "../components/bits.tsx";
import { Icon, MailMark } from "../components/icons.tsx";
import { type CustomerOption, CustomerPanel, StatusPanel } from "../components/ticket_side.tsx";

/** Props: what the server rendered. */
export interface TicketViewProps {
  ticket: Ticket;
  messages: Message[];
  customers: CustomerOption[];
  me: { id: string; name: string };
  now: number;
}

/** Someone else with this ticket open. */
interface Viewer {
  id: string;
  name: string;
}

/** Route of the retry for a failed delivery (docs/outgoing-mail.md). */
export const retryPath = (ticketId: number, messageId: string) =>
  `/api/v1/tickets/${ticketId}/messages/${encodeURIComponent(messageId)}/retry`;

function byTime(a: Message, b: Message): number {
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1;
}

/** Merge messages into the thread: new ones in time order, known ones replaced. */
export function mergeMessages(current: Message[], incoming: Message[]): Message[] {
  const byId = new Map(current.map((m) => [m.id, m]));
  let changed = false;
  for (const m of incoming) {
    const old = byId.get(m.id);
    if (old && JSON.stringify(old) === JSON.stringify(m)) continue;
    byId.set(m.id, m);
    changed = true;
  }
  return changed ? [...byId.values()].sort(byTime) : current;
}

/** Who an email reply goes to: the latest human inbound mail's author, else the sender. */
function replyAddress(thread: Message[], fallback: string): string {
  for (let i = thread.length - 1; i >= 0; i--) {
    const m = thread[i];
    if (m.direction === "inbound" && m.via_email && !m.auto && m.author_email) {
      return m.author_email;
    }
  }
  return fallback;
}

export default function TicketView(props: TicketViewProps) {
  const id = props.ticket.id;
  const ticket = useSignal(props.ticket);
  const messages = useSignal(props.messages);
  const customers = useSignal(props.customers);
  const viewers = useSignal<Viewer[]>([]);
  const notice = useSignal<{ kind: "ok" | "error"; text: string } | null>(null);
  const retrying = useSignal<Set<string>>(new Set());
  const now = useSignal(props.now);

  useEffect(() => {
    const client = live();
    let syncing = false;
    let markTimer: ReturnType<typeof setTimeout> | undefined;
    const resync = async () => {
      if (syncing) return;
      syncing = true;
      try {
        const view = await api<{ ticket: Ticket; messages: Message[] }>(
          "GET",
          `/api/v1/tickets/${id}`,
        );
        ticket.value = view.ticket;
        messages.value = mergeMessages(messages.peek(), view.messages);
      } catch (err) {
        notice.value = { kind: "error", text: `Could not refresh: ${errorText(err)}` };
      } finally {
        syncing = false;
        now.value = Date.now();
      }
    };
    const mine = (ev: LiveEvent) => Number(ev.ticket_id) === id;
    const offs = [
      client.subscribe(id),
      client.onConnect(resync),
      client.on("message", (ev) => {
        if (!mine(ev) || !ev.message) return;
        const m = ev.message as Message;
        const isNew = !messages.peek().some((x) => x.id === m.id);
        messages.value = mergeMessages(messages.peek(), [m]);
        now.value = Date.now();
        // a reply that appears on screen is seen: re-open the ticket so it counts as read
        if (isNew && document.visibilityState === "visible") {
          clearTimeout(markTimer);
          markTimer = setTimeout(resync, 800);
        }
      }),
      client.on("ticket_update", (ev) => {
        if (mine(ev) && ev.ticket) ticket.value = { ...ticket.peek(), ...(ev.ticket as Ticket) };
      }),
      client.on("ticket", (ev) => {
        // the ticket entered or left the Inbox, e.g. assigned by someone else
        if (mine(ev) && ev.reason === "updated") resync();
      }),
      client.on("presence", (ev) => {
        if (!mine(ev) || !Array.isArray(ev.viewers)) return;
        const seen = new Set<string>();
        viewers.value = (ev.viewers as Viewer[]).filter((v) =>
          v && v.id !== props.me.id && !seen.has(v.id) && seen.add(v.id)
        );
      }),
    ];
    const tick = setInterval(() => now.value = Date.now(), 60_000);
    return () => {
      offs.forEach((off) => off());
      clearInterval(tick);
      clearTimeout(markTimer);
    };
  }, [id]);

  const t = ticket.value;
  const customer = t.customer_id ? customers.value.find((c) => c.id === t.customer_id) : null;

  const send = async (text: string) => {
    const res = await api<{ message: Message }>("POST", `/api/v1/tickets/${id}/messages`, {
      body: text,
    });
    messages.value = mergeMessages(messages.peek(), [res.message]);
    // an agent's reply moves a new ticket to open
    if (ticket.peek().status === "new") ticket.value = { ...ticket.peek(), status: "open" };
    now.value = Date.now();
    requestAnimationFrame(() =>
      document.getElementById(`message-${res.message.id}`)?.scrollIntoView({ block: "nearest" })
    );
  };

  const retry = async (m: Message) => {
    retrying.value = new Set([...retrying.peek(), m.id]);
    try {
      const res = await api<{ message?: Message } | null>("POST", retryPath(id, m.id));
      if (res?.message) messages.value = mergeMessages(messages.peek(), [res.message]);
      else {
        const d = { status: "queued" as const, attempts: m.delivery?.attempts ?? 0, error: null };
        messages.value = mergeMessages(messages.peek(), [{ ...m, delivery: d }]);
      }
      notice.value = { kind: "ok", text: "The email was queued again." };
    } catch (err) {
      notice.value = { kind: "error", text: `Retry failed: ${errorText(err)}` };
    } finally {
      const s = new Set(retrying.peek());
      s.delete(m.id);
      retrying.value = s;
    }
  };

  return (
    <div class="ticket">
      <header class="ticket-head">
        <a class="back-link" href={customer ? `/customers/${customer.id}` : "/inbox"}>
          <Icon name="back" /> {customer ? customer.name : "Inbox"}
        </a>
        <div class="ticket-title-row">
          <h1 class="ticket-title">
            <span class="ticket-num">#{t.id}</span> <span data-subject="">{t.subject}</span>
          </h1>
          <StatusPill status={t.status} />
        </div>
        <div class="ticket-meta" data-meta="">
          <span class="meta-from">
            {t.source === "email" ? <MailMark label="Created from email" /> : null}{" "}
            <span class="from-name">{t.from_name || t.from_email}</span>
            {
              // the address once: not again after a sender without a name
              t.from_name && t.from_email
                ? (
                  <>
                    {" "}
                    <span class="from-email">&lt;{t.from_email}&gt;</span>
                  </>
                )
                : null
            }
          </span>
          <span class="meta-sep" aria-hidden="true">·</span>
          <span>
            Opened <Time iso={t.created_at} now={now.value} />
          </span>
          <span class="meta-sep" aria-hidden="true">·</span>
          <span>{customer ? <>Customer: {customer.name}</> : "In the Inbox"}</span>
          {viewers.value.length
            ? (
              <span class="viewers" data-viewers="">
                <span class="muted">Also viewing</span>
                {viewers.value.map((v) => <Avatar key={v.id} id={v.id} name={v.name} size="sm" />)}
              </span>
            )
            : null}
        </div>
      </header>
      {notice.value
        ? (
          <p
            class={`alert ${notice.value.kind === "ok" ? "alert-ok" : "alert-error"}`}
            role={notice.value.kind === "error" ? "alert" : "status"}
          >
            {notice.value.text}
            <button type="button" class="link-button" onClick={() => notice.value = null}>
              Dismiss
            </button>
          </p>
        )
        : null}
      <div class="ticket-grid">
        <div class="ticket-main">
          <section class="thread" aria-label="Messages">
            {messages.value.map((m) => (
              <MessageItem
                key={m.id}
                message={m}
                now={now.value}
                onRetry={retry}
                retrying={retrying.value.has(m.id)}
              />
            ))}
          </section>
          <ReplyBox
            ticketId={id}
            emailTo={t.source === "email" ? replyAddress(messages.value, t.from_email) : null}
            onSend={send}
          />
        </div>
        <aside class="ticket-side" aria-label="Ticket details">
          <StatusPanel
            ticket={t}
            onChange={(next) => ticket.value = next}
          />
          <CustomerPanel
            ticket={t}
            customers={customers.value}
            onAssigned={(next, list) => {
              ticket.value = next;
              if (list) customers.value = list;
            }}
          />
        </aside>
      </div>
    </div>
  );
}
