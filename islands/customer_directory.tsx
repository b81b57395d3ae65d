/**
 * The Customers page: a filterable list (name, email, ticket count) and the create form. A new
 * customer is added to the list in place.
 * @module
 */
import { useSignal } from "@preact/signals";
import type { Customer } from "../lib/db/customers.ts";
import { api, ApiError, errorText } from "../components/api.ts";

export default function CustomerDirectory(props: { customers: Customer[] }) {
  const customers = useSignal(props.customers);
  const filter = useSignal("");
  const busy = useSignal(false);
  const error = useSignal<{ text: string; field?: string } | null>(null);
  const created = useSignal<Customer | null>(null);

  const create = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get("name") ?? "").trim();
    const email = String(data.get("email") ?? "").trim();
    if (!name) {
      error.value = { text: "name: enter the customer's name", field: "name" };
      return;
    }
    busy.value = true;
    error.value = null;
    created.value = null;
    try {
      const res = await api<{ customer: Customer }>("POST", "/api/v1/customers", {
        name,
        ...(email ? { email } : {}),
      });
      customers.value = [...customers.peek(), res.customer]
        .sort((a, b) => a.name.localeCompare(b.name));
      created.value = res.customer;
      form.reset();
    } catch (err) {
      error.value = {
        text: errorText(err),
        field: err instanceof ApiError
          ? err.field ?? (err.status === 409 ? "email" : undefined)
          : undefined,
      };
    } finally {
      busy.value = false;
    }
  };

  const q = filter.value.trim().toLowerCase();
  const shown = q
    ? customers.value.filter((c) =>
      c.name.toLowerCase().includes(q) || (c.email ?? "").toLowerCase().includes(q)
    )
    : customers.value;
  const err = error.value;

  return (
    <div class="customers">
      <header class="page-head">
        <div>
          <h1>Customers</h1>
          <p class="muted">
            {customers.value.length} {customers.value.length === 1 ? "customer" : "customers"}
          </p>
        </div>
        {customers.value.length > 8
          ? (
            <label class="search">
              <span class="sr-only">Filter customers</span>
              <input
                type="search"
                placeholder="Filter by name or email"
                value={filter.value}
                onInput={(e) => filter.value = (e.currentTarget as HTMLInputElement).value}
              />
            </label>
          )
          : null}
      </header>
      <div class="two-col">
        <section aria-label="Customer list">
          {shown.length === 0
            ? (
              <p class="empty">
                {q ? "No customer matches." : "No customers yet. Add the first one."}
              </p>
            )
            : (
              <ul class="card-list">
                {shown.map((c) => (
                  <li key={c.id} class={created.value?.id === c.id ? "is-new" : undefined}>
                    <a href={`/customers/${c.id}`} class="card-row">
                      <span class="card-main">
                        <span class="card-title">{c.name}</span>
                        <span class="muted">{c.email ?? "No email"}</span>
                      </span>
                      <span class="count" title="Tickets">
                        {c.ticket_count} {c.ticket_count === 1 ? "ticket" : "tickets"}
                      </span>
                    </a>
                  </li>
                ))}
              </ul>
            )}
        </section>
        <section class="panel" aria-labelledby="new-customer">
          <h2 id="new-customer" class="panel-title">New customer</h2>
          <form onSubmit={create} class="stack" novalidate>
            <label class="field">
              <span class="label">Name</span>
              <input
                name="name"
                required
                maxLength={200}
                aria-invalid={err?.field === "name" ? "true" : undefined}
              />
            </label>
            <label class="field">
              <span class="label">
                Email <span class="muted">(optional)</span>
              </span>
              <input
                name="email"
                type="email"
                maxLength={254}
                aria-invalid={err?.field === "email" ? "true" : undefined}
              />
            </label>
            {err ? <p class="alert alert-error" role="alert">{err.text}</p> : null}
            {created.value
              ? (
                <p class="alert alert-ok" role="status">
                  Added <a href={`/customers/${created.value.id}`}>{created.value.name}</a>.
                </p>
              )
              : null}
            <button type="submit" class="button button-primary" disabled={busy.value}>
              {busy.value ? "Adding…" : "Add customer"}
            </button>
          </form>
        </section>
      </div>
    </div>
  );
}
