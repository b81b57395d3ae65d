/**
 * Admin → Settings → Incoming Mail: the IMAP form (saved with PUT; a 422 marks the field it
 * names), Test connection with the unsaved values, Poll now, the last poll, OAuth2 and the
 * list of mail that could not be imported.
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, ApiError, errorText } from "../components/api.ts";
import { fullTime } from "../components/format.ts";
import {
  type FieldError,
  type FormValues,
  numberOrRaw,
  Result,
  SelectField,
  SwitchField,
  TextField,
} from "../components/form.tsx";
import { OAuthPanel } from "../components/oauth_panel.tsx";
import { FailedMail } from "../components/failed_mail.tsx";

interface ImapSettings {
  host: string;
  port: number;
  security: "tls" | "starttls" | "none";
  tls_verify: boolean;
  username: string;
  password_set: boolean;
  mailbox: string;
  processed_mailbox: string;
  poll_interval: number;
  auth: "plain" | "oauth2";
  provider: "google" | "office365" | null;
  idle: boolean;
  enabled: boolean;
  last_poll: { at: string; ok: boolean; imported: number; error: string | null } | null;
}

interface TestResult {
  ok: boolean;
  error?: string;
  mailbox_exists?: boolean;
  capabilities?: string[];
}

interface PollResult {
  ok: boolean;
  imported: number;
  threaded: number;
  skipped: number;
  failed: number;
  error?: string;
}

type Msg = { kind: "ok" | "error" | "info"; text: string };

const DEFAULT_PORTS: Record<string, string> = { tls: "993", starttls: "143", none: "143" };

function toValues(s: ImapSettings): FormValues {
  return {
    host: s.host ?? "",
    port: String(s.port ?? ""),
    security: s.security ?? "tls",
    tls_verify: s.tls_verify !== false,
    username: s.username ?? "",
    password: "",
    mailbox: s.mailbox ?? "INBOX",
    processed_mailbox: s.processed_mailbox ?? "Processed",
    poll_interval: String(s.poll_interval ?? 60),
    auth: s.auth ?? "plain",
    provider: s.provider ?? "google",
    idle: s.idle === true,
    enabled: s.enabled !== false,
  };
}

function toBody(v: FormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {
    host: String(v.host).trim(),
    port: numberOrRaw(v.port),
    security: v.security,
    tls_verify: v.tls_verify,
    username: String(v.username).trim(),
    mailbox: String(v.mailbox).trim(),
    processed_mailbox: String(v.processed_mailbox).trim(),
    poll_interval: numberOrRaw(v.poll_interval),
    auth: v.auth,
    provider: v.auth === "oauth2" ? v.provider : null,
    idle: v.idle,
    enabled: v.enabled,
  };
  // An empty password field keeps the stored one
  if (v.auth === "plain" && v.password) body.password = v.password;
  return body;
}

export default function ImapSettingsForm() {
  const values = useSignal<FormValues>({});
  const loaded = useSignal(false);
  const saved = useSignal<ImapSettings | null>(null);
  const loadError = useSignal<string | null>(null);
  const invalid = useSignal<FieldError | null>(null);
  const busy = useSignal<"" | "save" | "test" | "poll">("");
  const saveMsg = useSignal<Msg | null>(null);
  const testMsg = useSignal<TestResult | Msg | null>(null);
  const pollMsg = useSignal<Msg | null>(null);
  const failedVersion = useSignal(0);

  const load = async (keepForm = false) => {
    try {
      const { settings } = await api<{ settings: ImapSettings }>("GET", "/api/v1/admin/imap");
      saved.value = settings;
      if (!keepForm || !loaded.peek()) values.value = toValues(settings);
      else {
        // keep unsaved edits; take what the server changed behind the form
        values.value = {
          ...values.peek(),
          auth: settings.auth,
          provider: settings.provider ?? "google",
        };
      }
      loaded.value = true;
      loadError.value = null;
    } catch (err) {
      loadError.value = `Could not load the Incoming Mail settings: ${errorText(err)}`;
    }
  };

  useEffect(() => {
    load();
  }, []);

  const fail = (err: unknown, into: typeof saveMsg) => {
    if (err instanceof ApiError && err.field) {
      invalid.value = { field: err.field, text: err.message };
      requestAnimationFrame(() => document.getElementById(`imap-${err.field}`)?.focus());
    }
    into.value = { kind: "error", text: errorText(err) };
  };

  const save = async (e: Event) => {
    e.preventDefault();
    busy.value = "save";
    saveMsg.value = null;
    invalid.value = null;
    try {
      const { settings } = await api<{ settings: ImapSettings }>(
        "PUT",
        "/api/v1/admin/imap",
        toBody(values.peek()),
      );
      saved.value = settings;
      values.value = toValues(settings);
      saveMsg.value = { kind: "ok", text: "Incoming Mail settings saved." };
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
    try {
      testMsg.value = await api<TestResult>(
        "POST",
        "/api/v1/admin/imap/test",
        toBody(values.peek()),
      );
    } catch (err) {
      fail(err, testMsg as typeof saveMsg);
    } finally {
      busy.value = "";
    }
  };

  const poll = async () => {
    busy.value = "poll";
    pollMsg.value = { kind: "info", text: "Polling…" };
    try {
      const r = await api<PollResult>("POST", "/api/v1/admin/imap/poll");
      const counts =
        `Imported ${r.imported} (${r.threaded} threaded onto existing tickets), skipped ${r.skipped}, failed ${r.failed}.`;
      pollMsg.value = r.ok
        ? { kind: "ok", text: `Poll finished. ${counts}` }
        : { kind: "error", text: `Poll failed: ${r.error ?? "unknown error"}. ${counts}` };
    } catch (err) {
      pollMsg.value = { kind: "error", text: `Poll failed: ${errorText(err)}` };
    } finally {
      busy.value = "";
      failedVersion.value++;
      load(true);
    }
  };

  if (loadError.value && !loaded.value) return <Result kind="error">{loadError.value}</Result>;
  if (!loaded.value) return <p class="muted" aria-busy="true">Loading Incoming Mail settings…</p>;

  const v = values.value;
  const common = { values, invalid: invalid.value, idPrefix: "imap" };
  const s = saved.value;
  const t = testMsg.value;
  return (
    <div class="settings-block">
      <form class="grid-form" onSubmit={save} novalidate aria-label="Incoming Mail">
        <TextField {...common} name="host" label="Host" placeholder="imap.example.com" />
        <SelectField
          {...common}
          name="security"
          label="Security"
          options={[["tls", "TLS (port 993)"], ["starttls", "STARTTLS (port 143)"], [
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
        <SelectField
          {...common}
          name="auth"
          label="Authentication"
          options={[["plain", "Password"], ["oauth2", "OAuth2"]]}
        />
        <TextField
          {...common}
          name="username"
          label="Username"
          autocomplete="off"
          hint={v.auth === "oauth2" ? "The mailbox address used to sign in." : undefined}
        />
        {v.auth === "plain"
          ? (
            <TextField
              {...common}
              name="password"
              label="Password"
              type="password"
              autocomplete="new-password"
              placeholder={s?.password_set ? "•••••••• (saved; type to replace)" : ""}
              hint={s?.password_set ? "Leave empty to keep the saved password." : undefined}
            />
          )
          : (
            <SelectField
              {...common}
              name="provider"
              label="Provider"
              options={[["google", "Google (Gmail)"], ["office365", "Office 365 (Outlook)"]]}
            />
          )}
        {v.auth === "oauth2"
          ? (
            <OAuthPanel
              provider={String(v.provider)}
              onChanged={(note) => {
                saveMsg.value = note ? { kind: "info", text: note } : null;
                load(true);
              }}
            />
          )
          : null}
        <TextField {...common} name="mailbox" label="Mailbox" hint="The folder to poll." />
        <TextField
          {...common}
          name="processed_mailbox"
          label="Processed mailbox"
          hint="Imported mail is moved here (created when missing)."
        />
        <TextField
          {...common}
          name="poll_interval"
          label="Poll interval (seconds)"
          type="number"
          min={30}
          hint="At least 30 seconds."
        />
        <div class="switches">
          <SwitchField
            {...common}
            name="idle"
            label="Use IDLE (pick up new mail at once)"
          />
          <SwitchField
            {...common}
            name="enabled"
            label="Enabled (scheduled polling)"
          />
        </div>
        <div class="form-actions span-all">
          <button type="submit" class="button button-primary" disabled={!!busy.value}>
            {busy.value === "save" ? "Saving…" : "Save"}
          </button>
          <button type="button" class="button" onClick={test} disabled={!!busy.value}>
            {busy.value === "test" ? "Testing…" : "Test connection"}
          </button>
          <button type="button" class="button" onClick={poll} disabled={!!busy.value}>
            {busy.value === "poll" ? "Polling…" : "Poll now"}
          </button>
        </div>
        <div class="span-all results" data-results="imap">
          {saveMsg.value ? <Result kind={saveMsg.value.kind}>{saveMsg.value.text}</Result> : null}
          {t ? <TestOutcome result={t} mailbox={String(v.mailbox)} /> : null}
          {pollMsg.value ? <Result kind={pollMsg.value.kind}>{pollMsg.value.text}</Result> : null}
        </div>
      </form>
      <LastPoll poll={s?.last_poll ?? null} />
      <FailedMail version={failedVersion.value} />
    </div>
  );
}

function TestOutcome(props: { result: TestResult | Msg; mailbox: string }) {
  const r = props.result;
  if ("kind" in r) return <Result kind={r.kind}>{r.text}</Result>;
  if (!r.ok) return <Result kind="error">Connection failed: {r.error ?? "unknown error"}</Result>;
  return (
    <Result kind={r.mailbox_exists === false ? "error" : "ok"}>
      <strong>Connection OK.</strong> {r.mailbox_exists === false
        ? `The mailbox "${props.mailbox}" does not exist on the server.`
        : r.mailbox_exists
        ? `The mailbox "${props.mailbox}" exists.`
        : null}
      {r.error ? <span class="block">{r.error}</span> : null}
      {r.capabilities?.length
        ? (
          <span class="block small capabilities">
            Capabilities: {r.capabilities.join(" ")}
          </span>
        )
        : null}
    </Result>
  );
}

function LastPoll(props: { poll: ImapSettings["last_poll"] }) {
  const p = props.poll;
  return (
    <div class="last-poll" data-last-poll="">
      <h3 class="subhead">Last poll</h3>
      {p
        ? (
          <p>
            <span class={`dot ${p.ok ? "dot-ok" : "dot-bad"}`} aria-hidden="true" />
            {fullTime(p.at)} · {p.ok ? "OK" : "Failed"} · imported {p.imported}
            {p.error ? <span class="block error-text">{p.error}</span> : null}
          </p>
        )
        : <p class="muted">No poll has run yet.</p>}
    </div>
  );
}
