/**
 * The ticket page's side panels: status change, and the customer: an Inbox ticket gets a
 * Customer dropdown and an Assign button (plus "new customer from the sender"); an assigned
 * ticket gets a "Move to customer" panel. Rendered inside the ticket island.
 * @module
 */
import { useSignal } from "@preact/signals";
import type { Ticket } from "../lib/db/tickets.ts";
import { api, ApiError, errorText } from "./api.ts";
import { STATUSES, statusLabel } from "./format.ts";

/** A customer in the dropdown. */
export interface CustomerOption {
  id: string;
  name: string;
  email: string | null;
}

/** Status select; saves on change. */
export function StatusPanel(props: { ticket: Ticket; onChange: (t: Ticket) => void }) {
  const saving = useSignal(false);
  const error = useSignal<string | null>(null);
  const t = props.ticket;
  const change = async (e: Event) => {
    const select = e.currentTarget as HTMLSelectElement;
    const status = select.value;
    saving.value = true;
    error.value = null;
    try {
      const res = await api<{ ticket: Ticket }>("PATCH", `/api/v1/tickets/${t.id}`, { status });
      props.onChange(res.ticket);
    } catch (err) {
      select.value = t.status;
      error.value = errorText(err);
    } finally {
      saving.value = false;
    }
  };
  return (
    <section class="panel" aria-labelledby="status-heading">
      <h2 id="status-heading" class="panel-title">Status</h2>
      <label class="field">
        <span class="sr-only">Ticket status</span>
        <select name="status" value={t.status} onChange={change} disabled={saving.value}>
          {
            // `selected` too: a select's value prop is not applied in server HTML or hydration
            STATUSES.map((s) => (
              <option key={s} value={s} selected={s === t.status}>{statusLabel(s)}</option>
            ))
          }
        </select>
      </label>
      {error.value ? <p class="alert alert-error" role="alert">{error.value}</p> : null}
    </section>
  );
}

/** Assign an Inbox ticket, or move an assigned one, to a customer. */
export function CustomerPanel(props: {
  ticket: Ticket;
  customers: CustomerOption[];
  onAssigned: (t: Ticket, customers?: CustomerOption[]) => void;
}) {
  const t = props.ticket;
  const inInbox = t.customer_id === null;
  const choice = useSignal("");
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const done = useSignal<string | null>(null);
  const others = props.customers.filter((c) => c.id !== t.customer_id);

  const assign = async (customerId: string, list?: CustomerOption[]) => {
    const res = await api<{ ticket: Ticket }>("POST", `/api/v1/tickets/${t.id}/customer`, {
      customer_id: customerId,
    });
    const name = (list ?? props.customers).find((c) => c.id === customerId)?.name ?? "the customer";
    done.value = inInbox ? `Assigned to ${name}. The ticket left the Inbox.` : `Moved to ${name}.`;
    choice.value = "";
    props.onAssigned(res.ticket, list);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!choice.value) {
      error.value = "Choose a customer first.";
      return;
    }
    busy.value = true;
    error.value = null;
    done.value = null;
    try {
      await assign(choice.value);
    } catch (err) {
      error.value = errorText(err);
    } finally {
      busy.value = false;
    }
  };

  /** Make a customer from the sender (or reuse the one with that address) and assign. */
  const fromSender = async () => {
    busy.value = true;
    error.value = null;
    done.value = null;
    try {
      const email = t.from_email.toLowerCase();
      let found = props.customers.find((c) => c.email?.toLowerCase() === email);
      let list = props.customers;
      if (!found) {
        try {
          const res = await api<{ customer: CustomerOption }>("POST", "/api/v1/customers", {
            name: t.from_name || t.from_email,
            email: t.from_email,
          });
          found = res.customer;
        } catch (err) {
          if (!(err instanceof ApiError && err.status === 409)) throw err;
          const all = await api<{ customers: CustomerOption[] }>("GET", "/api/v1/customers");
          found = all.customers.find((c) => c.email?.toLowerCase() === email);
          if (!found) throw err;
        }
        list = [...props.customers.filter((c) => c.id !== found!.id), found]
          .sort((a, b) => a.name.localeCompare(b.name));
      }
      await assign(found.id, list);
    } catch (err) {
      error.value = errorText(err);
    } finally {
      busy.value = false;
    }
  };

  const current = props.customers.find((c) => c.id === t.customer_id);
  return (
    <section class="panel" aria-labelledby="customer-heading" data-panel="customer">
      <h2 id="customer-heading" class="panel-title">{inInbox ? "Customer" : "Move to customer"}</h2>
      {!inInbox
        ? (
          <p class="panel-text">
            Belongs to {current
              ? <a href={`/customers/${current.id}`}>{current.name}</a>
              : <span>another customer</span>}
          </p>
        )
        : <p class="panel-text muted">This ticket is in the Inbox until it has a customer.</p>}
      {others.length
        ? (
          <form class="assign-form" onSubmit={submit}>
            <label class="field">
              <span class="sr-only">{inInbox ? "Customer" : "Move to customer"}</span>
              <select
                name="customer_id"
                value={choice.value}
                onChange={(e) => choice.value = (e.currentTarget as HTMLSelectElement).value}
                disabled={busy.value}
              >
                <option value="">Choose a customer…</option>
                {others.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.email ? `${c.name} (${c.email})` : c.name}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" class="button" disabled={busy.value}>
              {inInbox ? "Assign" : "Move"}
            </button>
          </form>
        )
        : (
          <p class="panel-text muted small">
            {inInbox ? "No customers yet." : "There is no other customer to move it to."}{" "}
            <a href="/customers">Add customers</a>
          </p>
        )}
      {inInbox && t.source === "email" && t.from_email
        ? (
          <button
            type="button"
            class="button button-quiet button-small from-sender"
            onClick={fromSender}
            disabled={busy.value}
          >
            + New customer from {t.from_name || t.from_email}
          </button>
        )
        : null}
      {error.value ? <p class="alert alert-error" role="alert">{error.value}</p> : null}
      {done.value ? <p class="alert alert-ok" role="status">{done.value}</p> : null}
    </section>
  );
}
