/**
 * "New ticket" for a customer: a button that opens a small form (subject, message) and goes to
 * the created ticket.
 * @module
 */
import { useSignal } from "@preact/signals";
import type { Ticket } from "../lib/db/tickets.ts";
import { api, errorText } from "../components/api.ts";

export default function NewTicket(props: { customerId: string | null }) {
  const open = useSignal(false);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    busy.value = true;
    error.value = null;
    try {
      const res = await api<{ ticket: Ticket }>("POST", "/api/v1/tickets", {
        subject: String(data.get("subject") ?? ""),
        body: String(data.get("body") ?? ""),
        ...(props.customerId ? { customer_id: props.customerId } : {}),
      });
      location.assign(`/tickets/${res.ticket.id}`);
    } catch (err) {
      error.value = errorText(err);
      busy.value = false;
    }
  };

  if (!open.value) {
    return (
      <button type="button" class="button" onClick={() => open.value = true}>
        New ticket
      </button>
    );
  }
  return (
    <form class="panel new-ticket stack" onSubmit={submit} aria-label="New ticket">
      <label class="field">
        <span class="label">Subject</span>
        <input name="subject" required maxLength={500} autofocus />
      </label>
      <label class="field">
        <span class="label">Message</span>
        <textarea name="body" rows={4} required />
      </label>
      {error.value ? <p class="alert alert-error" role="alert">{error.value}</p> : null}
      <div class="row-end">
        <button type="button" class="button button-quiet" onClick={() => open.value = false}>
          Cancel
        </button>
        <button type="submit" class="button button-primary" disabled={busy.value}>
          {busy.value ? "Creating…" : "Create ticket"}
        </button>
      </div>
    </form>
  );
}
