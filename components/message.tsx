/**
 * One message of a ticket's thread: author with avatar and the ✉ badge for mail, time, the
 * delivery state of outbound mail (queued / sent / failed with its error and a Retry button),
 * the body (sanitized HTML as HTML, else the text) and the attachments as links.
 * @module
 */
import type { Message } from "../lib/db/messages.ts";
import { Avatar, Time } from "./bits.tsx";
import { Icon, MailMark } from "./icons.tsx";
import { bytes, fullTime } from "./format.ts";

/** Props of `MessageItem`. */
export interface MessageItemProps {
  message: Message;
  now?: number;
  /** Called by the Retry button of a failed delivery; the button is hidden without it. */
  onRetry?: (m: Message) => void;
  /** True while a retry of this message is in flight. */
  retrying?: boolean;
}

function Delivery(props: MessageItemProps) {
  const d = props.message.delivery;
  if (!d) return null;
  if (d.status === "sent") {
    return <span class="delivery delivery-sent" data-delivery="sent">Sent</span>;
  }
  if (d.status === "queued") {
    return (
      <span class="delivery delivery-queued" data-delivery="queued">
        {d.error
          ? `Queued · will retry (${d.attempts} ${d.attempts === 1 ? "try" : "tries"})`
          : "Queued"}
      </span>
    );
  }
  return <span class="delivery delivery-failed" data-delivery="failed">Not delivered</span>;
}

/** A message card. */
export function MessageItem(props: MessageItemProps) {
  const m = props.message;
  const failed = m.delivery?.status === "failed";
  const queuedError = m.delivery?.status === "queued" && m.delivery.error;
  // Inline images are already shown inside the HTML; list them only for text-only bodies
  const files = m.attachments.filter((a) => !a.inline || !m.body_html);
  return (
    <article
      class={`message message-${m.direction}${m.auto ? " message-auto" : ""}`}
      id={`message-${m.id}`}
      data-message-id={m.id}
      aria-label={`Message from ${m.author_name || m.author_email}, ${fullTime(m.created_at)}`}
    >
      <header class="message-head">
        <Avatar name={m.author_name || m.author_email} id={m.author_user_id ?? m.author_email} />
        <div class="message-who">
          <span class="message-author">
            <span class="author-name">{m.author_name || m.author_email}</span>
            {m.via_email
              ? (
                <MailMark
                  label={m.direction === "outbound" ? "Sent by email" : "Received by email"}
                />
              )
              : null}
          </span>
          {m.author_email ? <span class="author-email">{m.author_email}</span> : null}
        </div>
        <div class="message-meta">
          {m.auto ? <span class="tag" title="Auto-reply or bounce">Automatic</span> : null}
          <Delivery {...props} />
          <Time iso={m.created_at} now={props.now} />
        </div>
      </header>
      {failed || queuedError
        ? (
          <div
            class={`delivery-note${failed ? " is-failed" : ""}`}
            role={failed ? "alert" : undefined}
          >
            <span>
              {failed ? "The email could not be delivered" : "Last attempt failed"}
              {m.delivery?.error ? `: ${m.delivery.error}` : "."}
            </span>
            {failed && props.onRetry
              ? (
                <button
                  type="button"
                  class="button button-small"
                  disabled={props.retrying}
                  onClick={() => props.onRetry?.(m)}
                >
                  {props.retrying ? "Retrying…" : "Retry"}
                </button>
              )
              : null}
          </div>
        )
        : null}
      {m.body_html
        ? (
          <div
            class="message-body message-html"
            dangerouslySetInnerHTML={{ __html: m.body_html }}
          />
        )
        : <div class="message-body message-text">{m.body_text}</div>}
      {files.length
        ? (
          <ul class="attachments" aria-label="Attachments">
            {files.map((a) => (
              <li key={a.id}>
                <a href={`/api/v1/attachments/${a.id}`} class="attachment" title={a.filename}>
                  <Icon name="paperclip" />
                  <span class="attachment-name">{a.filename}</span>
                  <span class="attachment-size">{bytes(a.size)}</span>
                </a>
              </li>
            ))}
          </ul>
        )
        : null}
    </article>
  );
}
