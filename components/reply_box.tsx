/**
 * The reply box of a ticket. The textarea is uncontrolled: nothing the thread does (new
 * messages, status changes, live updates) re-renders its value, so a draft in progress is never
 * touched. The draft is also kept per ticket in localStorage, restored after a reload and
 * cleared after a successful send. Ctrl/⌘+Enter sends.
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { errorText } from "./api.ts";

/** localStorage key of a ticket's draft. */
export const draftKey = (ticketId: number) => `warmdesk.draft.${ticketId}`;

function readDraft(ticketId: number): string {
  try {
    return localStorage.getItem(draftKey(ticketId)) ?? "";
  } catch {
    return ""; // storage disabled
  }
}

function writeDraft(ticketId: number, text: string) {
  try {
    if (text) localStorage.setItem(draftKey(ticketId), text);
    else localStorage.removeItem(draftKey(ticketId));
  } catch { /* storage full or disabled: the draft lives in the textarea only */ }
}

/** Props of `ReplyBox`. */
export interface ReplyBoxProps {
  ticketId: number;
  /** Where an email reply goes; null for web tickets (no mail is sent). */
  emailTo: string | null;
  /** Send the text; resolve when stored, reject with an Error to show. */
  onSend: (text: string) => Promise<void>;
}

export function ReplyBox(props: ReplyBoxProps) {
  const area = useRef<HTMLTextAreaElement>(null);
  const sending = useSignal(false);
  const empty = useSignal(true);
  const error = useSignal<string | null>(null);
  const restored = useSignal(false);

  useEffect(() => {
    const el = area.current;
    if (!el) return;
    const saved = readDraft(props.ticketId);
    // Text typed before the script ran wins over an older saved draft
    if (el.value) writeDraft(props.ticketId, el.value);
    else if (saved) {
      el.value = saved;
      restored.value = true;
    }
    empty.value = !el.value.trim();
  }, [props.ticketId]);

  const onInput = () => {
    const el = area.current!;
    writeDraft(props.ticketId, el.value);
    empty.value = !el.value.trim();
    restored.value = false;
  };

  const send = async (e?: Event) => {
    e?.preventDefault();
    const el = area.current;
    if (!el || sending.value) return;
    const text = el.value;
    if (!text.trim()) {
      error.value = "Write a reply first.";
      el.focus();
      return;
    }
    sending.value = true;
    error.value = null;
    try {
      await props.onSend(text);
      // Only clear what was sent: text typed while sending stays
      if (el.value === text) el.value = "";
      writeDraft(props.ticketId, el.value);
      empty.value = !el.value.trim();
      restored.value = false;
    } catch (err) {
      error.value = `Not sent: ${errorText(err)}`;
    } finally {
      sending.value = false;
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) send(e);
  };

  return (
    <form class="reply-box" onSubmit={send} aria-labelledby="reply-label">
      <label for="reply-text" id="reply-label" class="reply-label">
        {props.emailTo
          ? (
            <>
              Reply to <strong>{props.emailTo}</strong>
              <span class="muted">· sent by email</span>
            </>
          )
          : "Reply"}
      </label>
      <textarea
        id="reply-text"
        name="body"
        ref={area}
        rows={6}
        placeholder="Write your reply…"
        onInput={onInput}
        onKeyDown={onKeyDown}
        aria-describedby="reply-hint"
      />
      {error.value ? <p class="alert alert-error" role="alert">{error.value}</p> : null}
      <div class="reply-actions">
        <span id="reply-hint" class="muted small">
          {restored.value ? "Draft restored · " : ""}Drafts are kept on this device · Ctrl+Enter to
          send
        </span>
        <button
          type="submit"
          class="button button-primary"
          disabled={sending.value || empty.value}
        >
          {sending.value ? "Sending…" : "Send reply"}
        </button>
      </div>
    </form>
  );
}
