/**
 * Outgoing mail (SMTP) settings: stored under `keys.settings("smtp")`, validated at the edge
 * (422 naming the field), the password sealed with the vault and never returned
 * (`password_set` tells whether one is stored).
 *
 * Input rules (documented in docs/outgoing-mail.md): fields are merged over the stored values,
 * so a form may send only what changed; an omitted, null or empty `password` keeps the stored
 * one; an empty `username` means no SMTP authentication and drops the stored password.
 */
import type { Services } from "../state.ts";
import { keys } from "../db/keys.ts";
import { commit, withRetry } from "../db/kv.ts";
import { field, fieldError } from "../http/validate.ts";
import { isValidEmail, MAX_DISPLAY_NAME_CHARS } from "./outbound_headers.ts";
import type { SmtpConnection, SmtpSecurity } from "./smtp_transport.ts";

export const SMTP_SECURITIES: readonly SmtpSecurity[] = ["tls", "starttls", "none"];
/** The usual port of each security mode, used when no port was ever given. */
export const DEFAULT_PORTS: Record<SmtpSecurity, number> = { tls: 465, starttls: 587, none: 25 };

/** What KV holds. */
export interface SmtpSettingsRecord {
  host: string;
  port: number;
  security: SmtpSecurity;
  tls_verify: boolean;
  username: string;
  /** `svc.vault.seal(password)`, or null when no password is stored. */
  password_sealed: string | null;
  from_address: string;
  from_name: string;
  updated_at: string;
}

/** The settings as API.md shows them (no secret). */
export type SmtpSettings = Omit<SmtpSettingsRecord, "password_sealed" | "updated_at"> & {
  password_set: boolean;
};

/** Settings before anything was saved. */
export const SMTP_DEFAULTS: SmtpSettings = {
  host: "",
  port: DEFAULT_PORTS.starttls,
  security: "starttls",
  tls_verify: true,
  username: "",
  password_set: false,
  from_address: "",
  from_name: "WarmDesk",
};

/** Read the stored settings (null when never saved). */
export async function getSmtpRecord(kv: Deno.Kv): Promise<SmtpSettingsRecord | null> {
  return (await kv.get<SmtpSettingsRecord>(keys.settings("smtp"))).value;
}

/** The public view of stored settings (defaults when none). */
export function publicSmtpSettings(rec: SmtpSettingsRecord | null): SmtpSettings {
  if (!rec) return { ...SMTP_DEFAULTS };
  return {
    host: rec.host,
    port: rec.port,
    security: rec.security,
    tls_verify: rec.tls_verify,
    username: rec.username,
    password_set: rec.password_sealed !== null,
    from_address: rec.from_address,
    from_name: rec.from_name,
  };
}

/** True when mail can be sent with these settings (host and from address present). */
export function smtpConfigured(rec: SmtpSettingsRecord | null): rec is SmtpSettingsRecord {
  return !!rec && rec.host !== "" && rec.from_address !== "";
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const HOSTNAME_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
const IPV6_RE = /^\[?[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\]?$/;

function noControl(name: string, v: string | undefined): string | undefined {
  if (v !== undefined && CONTROL.test(v)) {
    throw fieldError(name, "must not contain line breaks or control characters");
  }
  return v;
}

/** Validated input merged over the stored settings; `password` is the new plain password. */
export interface SmtpInput {
  host: string;
  port: number;
  security: SmtpSecurity;
  tls_verify: boolean;
  username: string;
  from_address: string;
  from_name: string;
  /** A new password; undefined keeps the stored one. */
  password: string | undefined;
}

/**
 * Validate a settings body merged over `current`. Throws 422 naming the first bad field.
 * `requireFrom` (PUT, test with `to`) makes `from_address` mandatory.
 */
export function parseSmtpInput(
  b: Record<string, unknown>,
  current: SmtpSettingsRecord | null,
  opts: { requireFrom: boolean } = { requireFrom: true },
): SmtpInput {
  const base = publicSmtpSettings(current);
  const security = field.oneOf(b, "security", SMTP_SECURITIES) ?? base.security;

  const hostIn = field.string(b, "host", { max: 253 });
  const host = (hostIn ?? base.host).replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw fieldError("host", "is required");
  noControl("host", host);
  if (!HOSTNAME_RE.test(host) && !IPV6_RE.test(host)) {
    throw fieldError("host", "must be a host name or an IP address");
  }

  // a never-saved port follows the security mode; a saved one stays unless given
  const port = field.integer(b, "port", { min: 1, max: 65535 }) ??
    (current ? current.port : DEFAULT_PORTS[security]);
  const tls_verify = field.boolean(b, "tls_verify") ?? base.tls_verify;
  const username = noControl("username", field.string(b, "username", { max: 320 })) ??
    base.username;

  const rawPw = b.password;
  let password: string | undefined;
  if (rawPw !== undefined && rawPw !== null && rawPw !== "") {
    if (typeof rawPw !== "string") throw fieldError("password", "must be a string");
    if (rawPw.length > 1024) throw fieldError("password", "must be at most 1024 characters");
    // AUTH PLAIN separates fields with NUL; CR/LF would end the SMTP command line
    // deno-lint-ignore no-control-regex
    if (/[\u0000\r\n]/.test(rawPw)) {
      throw fieldError("password", "must not contain line breaks or NUL characters");
    }
    password = rawPw;
  }

  const fromIn = field.string(b, "from_address", { max: 254 });
  const from_address = (fromIn ?? base.from_address).toLowerCase();
  if (from_address === "") {
    if (opts.requireFrom) throw fieldError("from_address", "is required");
  } else if (!isValidEmail(from_address)) {
    throw fieldError("from_address", "must be an email address like helpdesk@example.com");
  }
  const from_name = noControl(
    "from_name",
    field.string(b, "from_name", { max: MAX_DISPLAY_NAME_CHARS }),
  ) ?? base.from_name;

  return { host, port, security, tls_verify, username, from_address, from_name, password };
}

/** Validate and store settings; answers the public view. */
export async function saveSmtpSettings(
  svc: Services,
  body: Record<string, unknown>,
): Promise<SmtpSettings> {
  return await withRetry(async () => {
    const cur = await svc.kv.get<SmtpSettingsRecord>(keys.settings("smtp"));
    const input = parseSmtpInput(body, cur.value);
    let sealed = cur.value?.password_sealed ?? null;
    if (input.password !== undefined) sealed = await svc.vault.seal(input.password);
    if (input.username === "") sealed = null;
    const rec: SmtpSettingsRecord = {
      host: input.host,
      port: input.port,
      security: input.security,
      tls_verify: input.tls_verify,
      username: input.username,
      password_sealed: sealed,
      from_address: input.from_address,
      from_name: input.from_name,
      updated_at: new Date().toISOString(),
    };
    return await commit(
      svc.kv.atomic().check(cur).set(keys.settings("smtp"), rec),
      publicSmtpSettings(rec),
    );
  });
}

/** Connection parameters of stored settings, with the password opened. */
export async function connectionOf(
  svc: Services,
  rec: Pick<
    SmtpSettingsRecord,
    "host" | "port" | "security" | "tls_verify" | "username" | "password_sealed"
  >,
): Promise<SmtpConnection> {
  let password: string | null = null;
  if (rec.username !== "" && rec.password_sealed) {
    password = await svc.vault.open(rec.password_sealed);
  }
  return {
    host: rec.host,
    port: rec.port,
    security: rec.security,
    tls_verify: rec.tls_verify,
    username: rec.username,
    password,
  };
}

/**
 * Connection parameters for "Send test": the unsaved body merged over the stored settings, an
 * omitted password meaning the stored one. Also returns the from address to use.
 */
export async function testConnectionOf(
  svc: Services,
  body: Record<string, unknown>,
  requireFrom: boolean,
): Promise<{ conn: SmtpConnection; from_address: string; from_name: string }> {
  const cur = await getSmtpRecord(svc.kv);
  const input = parseSmtpInput(body, cur, { requireFrom });
  const conn = await connectionOf(svc, {
    ...input,
    password_sealed: input.password === undefined ? cur?.password_sealed ?? null : null,
  });
  if (input.password !== undefined && input.username !== "") conn.password = input.password;
  return { conn, from_address: input.from_address, from_name: input.from_name };
}
