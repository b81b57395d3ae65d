/**
 * The ticket list rows shared by the Inbox island and a customer's page: unread marker,
 * sender (name and address), ✉ for email tickets, subject, status and last activity.
 * @module
 */
import type { Ticket } from "../lib/db/tickets.ts";
import { StatusPill, Time } from "./bits.tsx";
import { MailMark } from "./icons.tsx";

/** One ticket row: the whole row is a link to the ticket. */
export function TicketRow(props: { ticket: Ticket; now?: number }) {
  const t = props.ticket;
  const from = t.from_name && t.from_email ? `${t.from_name} <${t.from_email}>` : t.from_name ||
    t.from_email;
  return (
    <li class={`ticket-row${t.unread ? " is-unread" : ""}`} data-ticket-id={t.id}>
      <a href={`/tickets/${t.id}`} class="ticket-link">
        <span class="unread-dot" title={t.unread ? "Unread" : undefined}>
          {t.unread ? <span class="sr-only">Unread:</span> : null}
        </span>
        {/* titles: long names and subjects are cut with an ellipsis */}
        <span class="ticket-from" title={from}>
          <span class="from-name">{t.from_name || t.from_email}</span>
          {/* the address once: not again under a sender without a name */}
          {t.from_name && t.from_email ? <span class="from-email">{t.from_email}</span> : null}
        </span>
        <span class="ticket-subject" title={t.subject}>
          {t.source === "email" ? <MailMark label="From email" /> : null}
          <span class="ticket-num">#{t.id}</span> <span class="subject-text">{t.subject}</span>
        </span>
        <span class="ticket-status">
          <StatusPill status={t.status} />
        </span>
        <span class="ticket-time">
          <Time iso={t.last_message_at} now={props.now} />
        </span>
      </a>
    </li>
  );
}

/** A list of tickets, or `empty` when there are none. */
export function TicketList(
  props: { tickets: Ticket[]; empty: string; label: string; now?: number },
) {
  if (props.tickets.length === 0) return <p class="empty">{props.empty}</p>;
  return (
    <ul class="ticket-list" aria-label={props.label}>
      {props.tickets.map((t) => <TicketRow key={t.id} ticket={t} now={props.now} />)}
    </ul>
  );
}
