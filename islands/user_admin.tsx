/**
 * Admin → Users: the user table with a role select and a helpdesk-access switch per user
 * (saved at once through PATCH), and the form that creates an agent.
 * @module
 */
import { useSignal } from "@preact/signals";
import type { PublicUser } from "../lib/db/users.ts";
import { api, ApiError, errorText } from "../components/api.ts";
import { Avatar } from "../components/bits.tsx";

/** Props: the users as the server listed them, and who is looking. */
export interface UserAdminProps {
  users: PublicUser[];
  meId: string;
}

export default function UserAdmin(props: UserAdminProps) {
  const users = useSignal(props.users);
  const rowError = useSignal<{ id: string; text: string } | null>(null);
  const saved = useSignal<string | null>(null);
  const formError = useSignal<{ text: string; field?: string } | null>(null);
  const busy = useSignal(false);

  const replace = (u: PublicUser) => {
    users.value = users.peek().map((x) => x.id === u.id ? u : x);
  };

  const patch = async (u: PublicUser, body: Partial<PublicUser>, revert: () => void) => {
    rowError.value = null;
    saved.value = null;
    try {
      const res = await api<{ user: PublicUser }>("PATCH", `/api/v1/admin/users/${u.id}`, body);
      replace(res.user);
      saved.value = `Saved ${res.user.name}.`;
    } catch (err) {
      revert();
      rowError.value = { id: u.id, text: errorText(err) };
    }
  };

  const create = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const d = new FormData(form);
    busy.value = true;
    formError.value = null;
    saved.value = null;
    try {
      const res = await api<{ user: PublicUser }>("POST", "/api/v1/admin/users", {
        name: String(d.get("name") ?? "").trim(),
        email: String(d.get("email") ?? "").trim(),
        password: String(d.get("password") ?? ""),
        role: String(d.get("role") ?? "agent"),
        helpdesk_enabled: d.get("helpdesk_enabled") === "on",
      });
      users.value = [...users.peek(), res.user];
      saved.value = `Created ${res.user.name} (${res.user.email}).`;
      form.reset();
    } catch (err) {
      formError.value = {
        text: errorText(err),
        field: err instanceof ApiError ? err.field : undefined,
      };
    } finally {
      busy.value = false;
    }
  };

  const fe = formError.value;
  const invalid = (f: string) => fe?.field === f ? "true" : undefined;

  return (
    <div class="users">
      <header class="page-head">
        <div>
          <h1>Users</h1>
          <p class="muted">Agents need helpdesk access to see tickets; admins always have it.</p>
        </div>
      </header>
      {saved.value ? <p class="alert alert-ok" role="status">{saved.value}</p> : null}
      <div class="table-wrap">
        <table class="table users-table" aria-label="Users">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Helpdesk access</th>
            </tr>
          </thead>
          <tbody>
            {users.value.map((u) => (
              <tr key={u.id} data-user-id={u.id}>
                <td>
                  <div class="user-cell">
                    <Avatar name={u.name || u.email} id={u.id} size="sm" />
                    <span>
                      <span class="user-name">
                        {u.name}
                        {u.id === props.meId ? <span class="tag">You</span> : null}
                      </span>
                      <span class="muted small block">{u.email}</span>
                    </span>
                  </div>
                  {rowError.value?.id === u.id
                    ? <p class="alert alert-error" role="alert">{rowError.value.text}</p>
                    : null}
                </td>
                {/* data-label: the column name shown above the control on a phone */}
                <td data-label="Role">
                  <label>
                    <span class="sr-only">Role of {u.name}</span>
                    <select
                      name="role"
                      value={u.role}
                      onChange={(e) => {
                        const el = e.currentTarget as HTMLSelectElement;
                        patch(u, { role: el.value as PublicUser["role"] }, () => el.value = u.role);
                      }}
                    >
                      {/* `selected` too: value is not applied in server HTML or hydration */}
                      <option value="agent" selected={u.role === "agent"}>Agent</option>
                      <option value="admin" selected={u.role === "admin"}>Admin</option>
                    </select>
                  </label>
                </td>
                <td data-label="Helpdesk access">
                  <label class="switch">
                    <input
                      type="checkbox"
                      role="switch"
                      name="helpdesk_enabled"
                      checked={u.helpdesk_enabled}
                      disabled={u.role === "admin"}
                      onChange={(e) => {
                        const el = e.currentTarget as HTMLInputElement;
                        patch(
                          u,
                          { helpdesk_enabled: el.checked },
                          () => el.checked = u.helpdesk_enabled,
                        );
                      }}
                    />
                    <span class="switch-text">
                      {u.role === "admin" ? "Always (admin)" : u.helpdesk_enabled ? "On" : "Off"}
                    </span>
                  </label>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <section class="panel narrow-panel" aria-labelledby="new-user">
        <h2 id="new-user" class="panel-title">Create an agent</h2>
        <form onSubmit={create} class="grid-form" novalidate>
          <label class="field">
            <span class="label">Name</span>
            <input name="name" required maxLength={200} aria-invalid={invalid("name")} />
          </label>
          <label class="field">
            <span class="label">Email</span>
            <input
              name="email"
              type="email"
              required
              autocomplete="off"
              aria-invalid={invalid("email")}
            />
          </label>
          <label class="field">
            <span class="label">Password</span>
            <input
              name="password"
              type="password"
              required
              minLength={8}
              autocomplete="new-password"
              aria-invalid={invalid("password")}
              aria-describedby="pw-hint"
            />
            <span id="pw-hint" class="hint">At least 8 characters.</span>
          </label>
          <label class="field">
            <span class="label">Role</span>
            <select name="role">
              <option value="agent">Agent</option>
              <option value="admin">Admin</option>
            </select>
          </label>
          <label class="check span-all">
            <input type="checkbox" name="helpdesk_enabled" checked />
            <span>Helpdesk access</span>
          </label>
          {fe ? <p class="alert alert-error span-all" role="alert">{fe.text}</p> : null}
          <div class="span-all">
            <button type="submit" class="button button-primary" disabled={busy.value}>
              {busy.value ? "Creating…" : "Create user"}
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}
