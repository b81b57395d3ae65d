/**
 * Admin → Settings → Outgoing Mail: the SMTP form (PUT; a 422 marks the field it names) and
 * Send test with the unsaved values and an optional recipient.
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, ApiError, errorText } from "../components/api.ts";
import {
  type FieldError,
  type FormValues,
  numberOrRaw,
  Result,
  SelectField,
  SwitchField,
  TextField,
} from "../components/form.tsx";

interface SmtpSettings {
  host: string;
  port: number;
  security: "tls" | "starttls" | "none";
  tls_verify: boolean;
  username: string;
  password_set: boolean;
  from_address: string;
  from_name: string;
}

type Msg = { kind: "ok" | "error" | "info"; text: string };

const DEFAULT_PORTS: Record<string, string> = { tls: "465", starttls: "587", none: "25" };

function toValues(s: SmtpSettings): FormValues {
  return {
    host: s.host ?? "",
    port: String(s.port ?? ""),
    security: s.security ?? "starttls",
    tls_verify: s.tls_verify !== false,
    username: s.username ?? "",
    password: "",
    from_address: s.from_address ?? "",
    from_name: s.from_name ?? "",
    to: "",
  };
}

function toBody(v: FormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {
    host: String(v.host).trim(),
    port: numberOrRaw(v.port),
    security: v.security,
    tls_verify: v.tls_verify,
    username: String(v.username).trim(),
    from_address: String(v.from_address).trim(),
    from_name: String(v.from_name).trim(),
  };
  if (v.password) body.password = v.password;
  return body;
}

export default function SmtpSettingsForm() {
  const values = useSignal<FormValues>({});
  const loaded = useSignal(false);
  const saved = useSignal<SmtpSettings | null>(null);
  const loadError = useSignal<string | null>(null);
  const invalid = useSignal<FieldError | null>(null);
  const busy = useSignal<"" | "save" | "test">("");
  const saveMsg = useSignal<Msg | null>(null);
  const testMsg = useSignal<Msg | null>(null);

  useEffect(() => {
    api<{ settings: SmtpSettings }>("GET", "/api/v1/admin/smtp").then(({ settings }) => {
      saved.value = settings;
      values.value = toValues(settings);
      loaded.value = true;
    }).catch((err) => {
      loadError.value = `Could not load the Outgoing Mail settings: ${errorText(err)}`;
    });
  }, []);

  const fail = (err: unknown, into: typeof saveMsg) => {
    if (err instanceof ApiError && err.field) {
      invalid.value = { field: err.field, text: err.message };
      requestAnimationFrame(() => document.getElementById(`smtp-${err.field}`)?.focus());
    }
    into.value = { kind: "error", text: errorText(err) };
  };

  const save = async (e: Event) => {
    e.preventDefault();
    busy.value = "save";
    saveMsg.value = null;
    invalid.value = null;
    try {
      const { settings } = await api<{ settings: SmtpSettings }>(
        "PUT",
        "/api/v1/admin/smtp",
        toBody(values.peek()),
      );
      saved.value = settings;
      values.value = { ...toValues(settings), to: values.peek().to };
      saveMsg.value = { kind: "ok", text: "Outgoing Mail settings saved." };
    } catch (err) {
      fail(err, saveMsg);
    } finally {
      busy.value = "";
    }
  };

  const test = async () => {
    busy.value = "test";
    testMsg.value = null;
    invalid.value = null;
    const v = values.peek();
    const to = String(v.to ?? "").trim();
    try {
      const r = await api<{ ok: boolean; error?: string }>(
        "POST",
        "/api/v1/admin/smtp/test",
        { ...toBody(v), ...(to ? { to } : {}) },
      );
      testMsg.value = r.ok
        ? { kind: "ok", text: `Test mail accepted by the server${to ? ` for ${to}` : ""}.` }
        : { kind: "error", text: `Sending failed: ${r.error ?? "unknown error"}` };
    } catch (err) {
      fail(err, testMsg);
    } finally {
      busy.value = "";
    }
  };

  if (loadError.value && !loaded.value) return <Result kind="error">{loadError.value}</Result>;
  if (!loaded.value) return <p class="muted" aria-busy="true">Loading Outgoing Mail settings…</p>;

  const v = values.value;
  const common = { values, invalid: invalid.value, idPrefix: "smtp" };
  const s = saved.value;
  return (
    <div class="settings-block">
      <form class="grid-form" onSubmit={save} novalidate aria-label="Outgoing Mail">
        <TextField {...common} name="host" label="Host" placeholder="smtp.example.com" />
        <SelectField
          {...common}
          name="security"
          label="Security"
          options={[["tls", "TLS (port 465)"], ["starttls", "STARTTLS (port 587)"], [
            "none",
            "None (no encryption)",
          ]]}
          onChange={(sec) => {
            const port = String(values.peek().port);
            if (!port || Object.values(DEFAULT_PORTS).includes(port)) {
              values.value = { ...values.peek(), port: DEFAULT_PORTS[sec] };
            }
          }}
        />
        <TextField {...common} name="port" label="Port" type="number" min={1} max={65535} />
        <SwitchField
          {...common}
          name="tls_verify"
          label="Verify the server certificate"
          disabled={v.security === "none"}
        />
        <TextField
          {...common}
          name="username"
          label="Username"
          hint="Leave empty for a server without authentication."
        />
        <TextField
          {...common}
          name="password"
          label="Password"
          type="password"
          autocomplete="new-password"
          placeholder={s?.password_set ? "•••••••• (saved; type to replace)" : ""}
          hint={s?.password_set ? "Leave empty to keep the saved password." : undefined}
        />
        <TextField
          {...common}
          name="from_address"
          label="From address"
          type="email"
          placeholder="support@example.com"
        />
        <TextField {...common} name="from_name" label="From name" placeholder="Example Support" />
        <div class="form-actions span-all">
          <button type="submit" class="button button-primary" disabled={!!busy.value}>
            {busy.value === "save" ? "Saving…" : "Save"}
          </button>
        </div>
        {saveMsg.value
          ? (
            <div class="span-all results" data-results="smtp-save">
              <Result kind={saveMsg.value.kind}>{saveMsg.value.text}</Result>
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
          <button type="button" class="button" onClick={test} disabled={!!busy.value}>
            {busy.value === "test" ? "Sending…" : "Send test"}
          </button>
        </div>
        {testMsg.value
          ? (
            <div class="span-all results" data-results="smtp-test">
              <Result kind={testMsg.value.kind}>{testMsg.value.text}</Result>
            </div>
          )
          : null}
      </form>
    </div>
  );
}
