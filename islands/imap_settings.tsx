/**
 * Admin → Settings → Incoming Mail: the IMAP form (saved with PUT; a 422 marks the field it
 * names), Test connection with the unsaved values, Poll now, the last poll, OAuth2 and the
 * list of mail that could not be imported.
 * @module
 */
import { useSignal } from "@preact/signals";
import { api, errorText } from "../components/api.ts";
import { fullTime } from "../components/format.ts";
import {
  type FormValues,
  numberOrRaw,
  Result,
  SelectField,
  SwitchField,
  TextField,
} from "../components/form.tsx";
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
import { OAuthPanel } from "../components/oauth_panel.tsx";
import { FailedMail } from "../components/failed_mail.tsx";

interface ImapSettings extends ServerSettings {
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

const DEFAULT_PORTS = { tls: "993", starttls: "143", none: "143" };

function toValues(s: ImapSettings): FormValues {
  return {
    ...serverValues(s, "tls"),
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
    ...serverBody(v),
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
  const form = useSettingsForm<ImapSettings>({
    title: "Incoming Mail",
    path: "/api/v1/admin/imap",
    idPrefix: "imap",
    toValues,
    toBody,
    // keep unsaved edits; take what the server changed behind the form
    merge: (settings, current) => ({
      ...current,
      auth: settings.auth,
      provider: settings.provider ?? "google",
    }),
  });
  const { values, busy, saveMsg, common } = form;
  const testMsg = useSignal<TestResult | Notice | null>(null);
  const pollMsg = useSignal<Notice | null>(null);
  const failedVersion = useSignal(0);

  const test = () =>
    form.act("test", testMsg, async () => {
      testMsg.value = await api<TestResult>(
        "POST",
        "/api/v1/admin/imap/test",
        toBody(values.peek()),
      );
    });

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
      form.load(true);
    }
  };

  if (form.pending) return form.pending;

  const v = values.value;
  const s = form.saved.value;
  const t = testMsg.value;
  return (
    <div class="settings-block">
      <form class="grid-form" onSubmit={form.save} novalidate aria-label="Incoming Mail">
        <ServerFields common={common} ports={DEFAULT_PORTS} hostPlaceholder="imap.example.com" />
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
          ? <PasswordField common={common} passwordSet={!!s?.password_set} />
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
                form.load(true);
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
          <ActionButton busy={busy} action="save" label="Save" busyLabel="Saving…" submit />
          <ActionButton
            busy={busy}
            action="test"
            label="Test connection"
            busyLabel="Testing…"
            onClick={test}
          />
          <ActionButton
            busy={busy}
            action="poll"
            label="Poll now"
            busyLabel="Polling…"
            onClick={poll}
          />
        </div>
        <div class="span-all results" data-results="imap">
          <NoticeLine notice={saveMsg.value} />
          {t ? <TestOutcome result={t} mailbox={String(v.mailbox)} /> : null}
          <NoticeLine notice={pollMsg.value} />
        </div>
      </form>
      <LastPoll poll={s?.last_poll ?? null} />
      <FailedMail version={failedVersion.value} />
    </div>
  );
}

function TestOutcome(props: { result: TestResult | Notice; mailbox: string }) {
  const r = props.result;
  if ("kind" in r) return <NoticeLine notice={r} />;
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
