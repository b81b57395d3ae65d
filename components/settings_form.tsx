/**
 * What the mail settings islands (Incoming and Outgoing Mail) share: the form state with its
 * load, save and test handling (a 422 marks and focuses the field it names), the server fields
 * (host, security, port, certificate check), the saved-password field and the action buttons.
 * @module
 */
import { type Signal, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { VNode } from "preact";
import { api, ApiError, errorText } from "./api.ts";
import {
  type FieldError,
  type FormValues,
  numberOrRaw,
  Result,
  SelectField,
  SwitchField,
  TextField,
} from "./form.tsx";

/** A result line's kind and text. */
export interface Notice {
  kind: "ok" | "error" | "info";
  text: string;
}

/** Options of {@link useSettingsForm}; `S` is the settings object the API answers. */
export interface SettingsFormOptions<S> {
  /** The section's name, e.g. "Incoming Mail" (in the loading, load-error and saved lines). */
  title: string;
  /** The settings route: GET reads, PUT saves. */
  path: string;
  /** Prefix of the fields' ids (the invalid field is focused by it). */
  idPrefix: string;
  toValues(settings: S): FormValues;
  toBody(values: FormValues): Record<string, unknown>;
  /** Form-only fields (not settings) that a save leaves as typed. */
  unsent?: string[];
  /**
   * The form after `load(true)` re-read the settings behind unsaved edits (default: the
   * settings as read).
   */
  merge?(settings: S, current: FormValues): FormValues;
}

/** State and handlers of a settings form (see {@link useSettingsForm}). */
export interface SettingsForm<S> {
  values: Signal<FormValues>;
  saved: Signal<S | null>;
  invalid: Signal<FieldError | null>;
  /** The action running ("" when none): every action button is disabled meanwhile. */
  busy: Signal<string>;
  saveMsg: Signal<Notice | null>;
  /** The props every field of the form takes. */
  common: { values: Signal<FormValues>; invalid: FieldError | null; idPrefix: string };
  /** Re-read the settings; with `keepForm` unsaved edits stay (see `merge`). */
  load(keepForm?: boolean): Promise<void>;
  /** The form's submit handler: PUT the values, then show the settings as saved. */
  save(e: Event): Promise<void>;
  /**
   * Run `fn` as the action `kind`: `into` and the field error are cleared first, a thrown
   * error is shown in `into` (and marks the field a 422 names).
   */
  act<T>(kind: string, into: Signal<T | Notice | null>, fn: () => Promise<void>): Promise<void>;
  /** What to render instead of the form until the settings are loaded; null once they are. */
  pending: VNode | null;
}

/** A settings form bound to its API route, loaded once on mount. */
export function useSettingsForm<S>(opts: SettingsFormOptions<S>): SettingsForm<S> {
  const values = useSignal<FormValues>({});
  const loaded = useSignal(false);
  const saved = useSignal<S | null>(null);
  const loadError = useSignal<string | null>(null);
  const invalid = useSignal<FieldError | null>(null);
  const busy = useSignal("");
  const saveMsg = useSignal<Notice | null>(null);

  const load = async (keepForm = false) => {
    try {
      const { settings } = await api<{ settings: S }>("GET", opts.path);
      saved.value = settings;
      if (!keepForm || !loaded.peek() || !opts.merge) values.value = opts.toValues(settings);
      else values.value = opts.merge(settings, values.peek());
      loaded.value = true;
      loadError.value = null;
    } catch (err) {
      loadError.value = `Could not load the ${opts.title} settings: ${errorText(err)}`;
    }
  };

  useEffect(() => {
    load();
  }, []);

  const act = async <T,>(
    kind: string,
    into: Signal<T | Notice | null>,
    fn: () => Promise<void>,
  ) => {
    busy.value = kind;
    into.value = null;
    invalid.value = null;
    try {
      await fn();
    } catch (err) {
      if (err instanceof ApiError && err.field) {
        invalid.value = { field: err.field, text: err.message };
        requestAnimationFrame(() =>
          document.getElementById(`${opts.idPrefix}-${err.field}`)?.focus()
        );
      }
      into.value = { kind: "error", text: errorText(err) };
    } finally {
      busy.value = "";
    }
  };

  const save = (e: Event) => {
    e.preventDefault();
    return act("save", saveMsg, async () => {
      const { settings } = await api<{ settings: S }>(
        "PUT",
        opts.path,
        opts.toBody(values.peek()),
      );
      saved.value = settings;
      const typed = values.peek();
      const next = opts.toValues(settings);
      for (const name of opts.unsent ?? []) next[name] = typed[name];
      values.value = next;
      saveMsg.value = { kind: "ok", text: `${opts.title} settings saved.` };
    });
  };

  let pending: VNode | null = null;
  if (loadError.value && !loaded.value) pending = <Result kind="error">{loadError.value}</Result>;
  else if (!loaded.value) {
    pending = <p class="muted" aria-busy="true">{`Loading ${opts.title} settings…`}</p>;
  }

  return {
    values,
    saved,
    invalid,
    busy,
    saveMsg,
    common: { values, invalid: invalid.value, idPrefix: opts.idPrefix },
    load,
    save,
    act,
    pending,
  };
}

/** The stored settings of a mail server connection, as both settings routes answer them. */
export interface ServerSettings {
  host: string;
  port: number;
  security: "tls" | "starttls" | "none";
  tls_verify: boolean;
  username: string;
}

/** Form values of the connection fields (the password field starts empty). */
export function serverValues(s: ServerSettings, security: ServerSettings["security"]): FormValues {
  return {
    host: s.host ?? "",
    port: String(s.port ?? ""),
    security: s.security ?? security,
    tls_verify: s.tls_verify !== false,
    username: s.username ?? "",
    password: "",
  };
}

/** The connection fields of a PUT or test body (the password is each form's own rule). */
export function serverBody(v: FormValues): Record<string, unknown> {
  return {
    host: String(v.host).trim(),
    port: numberOrRaw(v.port),
    security: v.security,
    tls_verify: v.tls_verify,
    username: String(v.username).trim(),
  };
}

/**
 * Host, security, port and certificate check. Choosing a security mode moves the port to that
 * mode's default unless the admin typed another port.
 */
export function ServerFields(props: {
  common: SettingsForm<unknown>["common"];
  /** Default port by security mode (tls, starttls, none). */
  ports: Record<"tls" | "starttls" | "none", string>;
  hostPlaceholder: string;
}) {
  const { common, ports } = props;
  const values = common.values;
  return (
    <>
      <TextField {...common} name="host" label="Host" placeholder={props.hostPlaceholder} />
      <SelectField
        {...common}
        name="security"
        label="Security"
        options={[
          ["tls", `TLS (port ${ports.tls})`],
          ["starttls", `STARTTLS (port ${ports.starttls})`],
          ["none", "None (no encryption)"],
        ]}
        onChange={(sec) => {
          const port = String(values.peek().port);
          if (!port || Object.values(ports).includes(port)) {
            values.value = { ...values.peek(), port: ports[sec as keyof typeof ports] };
          }
        }}
      />
      <TextField {...common} name="port" label="Port" type="number" min={1} max={65535} />
      <SwitchField
        {...common}
        name="tls_verify"
        label="Verify the server certificate"
        disabled={values.value.security === "none"}
      />
    </>
  );
}

/** The password input: never shows the stored one, says whether one is saved. */
export function PasswordField(props: {
  common: SettingsForm<unknown>["common"];
  passwordSet: boolean;
}) {
  return (
    <TextField
      {...props.common}
      name="password"
      label="Password"
      type="password"
      autocomplete="new-password"
      placeholder={props.passwordSet ? "•••••••• (saved; type to replace)" : ""}
      hint={props.passwordSet ? "Leave empty to keep the saved password." : undefined}
    />
  );
}

/** A button for one action of the form: says it is running, disabled while any action runs. */
export function ActionButton(props: {
  busy: Signal<string>;
  /** The action's name in `busy`. */
  action: string;
  label: string;
  busyLabel: string;
  /** The form's submit button (primary) instead of a plain one calling `onClick`. */
  submit?: boolean;
  onClick?: () => void;
}) {
  return (
    <button
      type={props.submit ? "submit" : "button"}
      class={props.submit ? "button button-primary" : "button"}
      onClick={props.onClick}
      disabled={!!props.busy.value}
    >
      {props.busy.value === props.action ? props.busyLabel : props.label}
    </button>
  );
}

/** A notice as a result line (nothing without one). */
export function NoticeLine(props: { notice: Notice | null }) {
  const n = props.notice;
  return n ? <Result kind={n.kind}>{n.text}</Result> : null;
}
