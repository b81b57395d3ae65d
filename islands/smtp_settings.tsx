/**
 * Admin → Settings → Outgoing Mail: the SMTP form (PUT; a 422 marks the field it names) and
 * Send test with the unsaved values and an optional recipient.
 * @module
 */
import { useSignal } from "@preact/signals";
import { api } from "../components/api.ts";
import { type FormValues, TextField } from "../components/form.tsx";
import {
  ActionButton,
  type Notice,
  NoticeLine,
  PasswordField,
  serverBody,
  ServerFields,
  type ServerSettings,
  serverValues,
  useSettingsForm,
} from "../components/settings_form.tsx";

interface SmtpSettings extends ServerSettings {
  password_set: boolean;
  from_address: string;
  from_name: string;
}

const DEFAULT_PORTS = { tls: "465", starttls: "587", none: "25" };

function toValues(s: SmtpSettings): FormValues {
  return {
    ...serverValues(s, "starttls"),
    from_address: s.from_address ?? "",
    from_name: s.from_name ?? "",
    to: "",
  };
}

function toBody(v: FormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {
    ...serverBody(v),
    from_address: String(v.from_address).trim(),
    from_name: String(v.from_name).trim(),
  };
  if (v.password) body.password = v.password;
  return body;
}

export default function SmtpSettingsForm() {
  const form = useSettingsForm<SmtpSettings>({
    title: "Outgoing Mail",
    path: "/api/v1/admin/smtp",
    idPrefix: "smtp",
    toValues,
    toBody,
    unsent: ["to"],
  });
  const { values, busy, saveMsg, common } = form;
  const testMsg = useSignal<Notice | null>(null);

  const test = () =>
    form.act("test", testMsg, async () => {
      const v = values.peek();
      const to = String(v.to ?? "").trim();
      const r = await api<{ ok: boolean; error?: string }>(
        "POST",
        "/api/v1/admin/smtp/test",
        { ...toBody(v), ...(to ? { to } : {}) },
      );
      testMsg.value = r.ok
        ? { kind: "ok", text: `Test mail accepted by the server${to ? ` for ${to}` : ""}.` }
        : { kind: "error", text: `Sending failed: ${r.error ?? "unknown error"}` };
    });

  if (form.pending) return form.pending;

  const s = form.saved.value;
  return (
    <div class="settings-block">
      <form class="grid-form" onSubmit={form.save} novalidate aria-label="Outgoing Mail">
        <ServerFields common={common} ports={DEFAULT_PORTS} hostPlaceholder="smtp.example.com" />
        <TextField
          {...common}
          name="username"
          label="Username"
          hint="Leave empty for a server without authentication."
        />
        <PasswordField common={common} passwordSet={!!s?.password_set} />
        <TextField
          {...common}
          name="from_address"
          label="From address"
          type="email"
          placeholder="support@example.com"
        />
        <TextField {...common} name="from_name" label="From name" placeholder="Example Support" />
        <div class="form-actions span-all">
          <ActionButton busy={busy} action="save" label="Save" busyLabel="Saving…" submit />
        </div>
        {saveMsg.value
          ? (
            <div class="span-all results" data-results="smtp-save">
              <NoticeLine notice={saveMsg.value} />
            </div>
          )
          : null}
        <div class="test-row span-all">
          <TextField
            {...common}
            name="to"
            label="Send a test mail to (optional)"
            type="email"
            placeholder="you@example.com"
          />
          <ActionButton
            busy={busy}
            action="test"
            label="Send test"
            busyLabel="Sending…"
            onClick={test}
          />
        </div>
        {testMsg.value
          ? (
            <div class="span-all results" data-results="smtp-test">
              <NoticeLine notice={testMsg.value} />
            </div>
          )
          : null}
      </form>
    </div>
  );
}
