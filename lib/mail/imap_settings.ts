/**
 * Incoming-mail (IMAP) settings: one record in KV under `keys.settings("imap")`, defaults,
 * validation of API input (422 naming the field), and the public view that never carries a
 * secret. The password is stored sealed with `svc.vault`; OAuth2 tokens live elsewhere (the
 * OAuth2 module), this record only says `auth: "oauth2"` and which `provider`.
 *
 * @module
 */
import type { Services } from "../state.ts";
import { keys } from "../db/keys.ts";
import { withRetry } from "../db/kv.ts";
import { fieldError } from "../http/validate.ts";

export type ImapSecurity = "tls" | "starttls" | "none";
export type ImapAuth = "plain" | "oauth2";
export type ImapProvider = "google" | "office365";

export const IMAP_SECURITIES: readonly ImapSecurity[] = ["tls", "starttls", "none"];
export const IMAP_AUTHS: readonly ImapAuth[] = ["plain", "oauth2"];
export const IMAP_PROVIDERS: readonly ImapProvider[] = ["google", "office365"];

/** Shortest poll interval accepted (seconds, API.md). */
export const MIN_POLL_INTERVAL = 30;
/** Longest poll interval accepted (one day). */
export const MAX_POLL_INTERVAL = 86_400;
/** Default port per security mode. */
export const DEFAULT_PORTS: Record<ImapSecurity, number> = { tls: 993, starttls: 143, none: 143 };
/** Longest mailbox name accepted (Dovecot refuses longer ones anyway). */
export const MAX_MAILBOX_NAME = 200;

/** The stored record. `password_sealed` is the vault-sealed password or null. */
export interface ImapSettingsRecord {
  host: string;
  port: number;
  security: ImapSecurity;
  tls_verify: boolean;
  username: string;
  password_sealed: string | null;
  mailbox: string;
  processed_mailbox: string;
  poll_interval: number;
  auth: ImapAuth;
  provider: ImapProvider | null;
  idle: boolean;
  enabled: boolean;
  /** Bumped on every save; the IDLE watcher restarts when it changes. */
  revision: number;
  updated_at: string | null;
}

/** The last poll as shown on the settings page and in health. */
export interface LastPoll {
  at: string;
  ok: boolean;
  imported: number;
  threaded: number;
  skipped: number;
  failed: number;
  error: string | null;
  duration_ms: number;
}

/** The settings as API.md shows them: no secret, `password_set` instead. */
export type PublicImapSettings =
  & Omit<ImapSettingsRecord, "password_sealed" | "revision" | "updated_at">
  & { password_set: boolean; last_poll: LastPoll | null };

/**
 * A validated change. `password`: a non-empty string sets it; absent keeps it. (Internally,
 * `saveImapSettings(svc, {password: ""})` clears it; the API never sends that.)
 */
export interface ImapSettingsPatch {
  host?: string;
  port?: number;
  security?: ImapSecurity;
  tls_verify?: boolean;
  username?: string;
  password?: string;
  mailbox?: string;
  processed_mailbox?: string;
  poll_interval?: number;
  auth?: ImapAuth;
  provider?: ImapProvider | null;
  idle?: boolean;
  enabled?: boolean;
}

/** Defaults (API.md): mailbox INBOX, processed Processed, 60 s, verify on, enabled. */
export function defaultImapSettings(): ImapSettingsRecord {
  return {
    host: "",
    port: DEFAULT_PORTS.tls,
    security: "tls",
    tls_verify: true,
    username: "",
    password_sealed: null,
    mailbox: "INBOX",
    processed_mailbox: "Processed",
    poll_interval: 60,
    auth: "plain",
    provider: null,
    idle: true,
    enabled: true,
    revision: 0,
    updated_at: null,
  };
}

// Host names and IP literals: letters, digits, dots, dashes, colons (IPv6), brackets.
const HOST_RE =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
const IPV6_RE = /^\[?[0-9a-f:.]+\]?$/i;
// deno-lint-ignore no-control-regex -- control characters are what we refuse
const CONTROL = /[\u0000-\u001f\u007f]/;

function text(body: Record<string, unknown>, name: string, max: number): string | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (v === null) return "";
  if (typeof v !== "string") throw fieldError(name, "must be a string");
  if (v.length > max) throw fieldError(name, `must be at most ${max} characters`);
  if (CONTROL.test(v)) throw fieldError(name, "must not contain control characters");
  return v;
}

function bool(body: Record<string, unknown>, name: string): boolean | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw fieldError(name, "must be true or false");
  return v;
}

function choice<T extends string>(
  body: Record<string, unknown>,
  name: string,
  values: readonly T[],
): T | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !values.includes(v as T)) {
    throw fieldError(name, `must be one of ${values.join(", ")}`);
  }
  return v as T;
}

function mailboxName(body: Record<string, unknown>, name: string): string | undefined {
  const v = text(body, name, MAX_MAILBOX_NAME);
  if (v === undefined) return undefined;
  const s = v.trim();
  if (s === "") throw fieldError(name, "must not be empty");
  return s;
}

/**
 * Validate API input into a patch. Unknown fields and the read-only `password_set` and
 * `last_poll` are ignored, so a client may send back what it read. Cross-field rules are
 * checked by {@link applyImapPatch}.
 */
export function parseImapPatch(body: Record<string, unknown>): ImapSettingsPatch {
  const p: ImapSettingsPatch = {};
  const host = text(body, "host", 253);
  if (host !== undefined) {
    const h = host.trim().toLowerCase();
    if (h !== "" && !HOST_RE.test(h) && !IPV6_RE.test(h)) {
      throw fieldError("host", "must be a host name or an IP address");
    }
    p.host = h;
  }
  if (body.port !== undefined) {
    const v = body.port;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      throw fieldError("port", "must be an integer");
    }
    if (v < 1 || v > 65535) throw fieldError("port", "must be between 1 and 65535");
    p.port = v;
  }
  p.security = choice(body, "security", IMAP_SECURITIES);
  p.tls_verify = bool(body, "tls_verify");
  const user = text(body, "username", 320);
  if (user !== undefined) p.username = user.trim();
  if (body.password !== undefined && body.password !== null) {
    const v = body.password;
    if (typeof v !== "string") throw fieldError("password", "must be a string");
    if (v.length > 1000) throw fieldError("password", "must be at most 1000 characters");
    // like the SMTP settings: an empty field (the form never shows the password) keeps it
    if (v !== "") p.password = v;
  }
  p.mailbox = mailboxName(body, "mailbox");
  p.processed_mailbox = mailboxName(body, "processed_mailbox");
  if (body.poll_interval !== undefined) {
    const v = body.poll_interval;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      throw fieldError("poll_interval", "must be a whole number of seconds");
    }
    if (v < MIN_POLL_INTERVAL) {
      throw fieldError("poll_interval", `must be at least ${MIN_POLL_INTERVAL} seconds`);
    }
    if (v > MAX_POLL_INTERVAL) {
      throw fieldError("poll_interval", `must be at most ${MAX_POLL_INTERVAL} seconds`);
    }
    p.poll_interval = v;
  }
  p.auth = choice(body, "auth", IMAP_AUTHS);
  if (body.provider !== undefined) {
    p.provider = body.provider === null ? null : choice(body, "provider", IMAP_PROVIDERS);
  }
  p.idle = bool(body, "idle");
  p.enabled = bool(body, "enabled");
  for (const k of Object.keys(p) as (keyof ImapSettingsPatch)[]) {
    if (p[k] === undefined) delete p[k];
  }
  return p;
}

/**
 * Apply a patch to a record (nothing saved): seals a new password, keeps the port in step
 * with a security change when the port was the old mode's default, and checks cross-field
 * rules (422 naming the field).
 */
export async function applyImapPatch(
  svc: Services,
  cur: ImapSettingsRecord,
  patch: ImapSettingsPatch,
): Promise<ImapSettingsRecord> {
  const { password, ...rest } = patch;
  const next: ImapSettingsRecord = { ...cur, ...rest };
  if (
    patch.security !== undefined && patch.port === undefined &&
    cur.port === DEFAULT_PORTS[cur.security]
  ) {
    next.port = DEFAULT_PORTS[patch.security];
  }
  if (password !== undefined) {
    next.password_sealed = password === "" ? null : await svc.vault.seal(password);
  }
  if (next.auth === "oauth2" && next.provider === null) {
    throw fieldError("provider", "must be google or office365 when auth is oauth2");
  }
  if (next.mailbox === next.processed_mailbox) {
    throw fieldError("processed_mailbox", "must differ from mailbox");
  }
  return next;
}

function normalizeRecord(v: Partial<ImapSettingsRecord> | null): ImapSettingsRecord {
  return { ...defaultImapSettings(), ...(v ?? {}) };
}

/** The stored settings merged over the defaults. */
export async function getImapSettings(svc: Services): Promise<ImapSettingsRecord> {
  const e = await svc.kv.get<Partial<ImapSettingsRecord>>(keys.settings("imap"));
  return normalizeRecord(e.value);
}

/**
 * Validate and store a change in one checked commit (retried when another save raced it);
 * tells the IMAP scheduler so an IDLE connection picks up new settings. Also used by the
 * OAuth2 module to set `auth` and `provider`.
 */
export async function saveImapSettings(
  svc: Services,
  patch: ImapSettingsPatch,
): Promise<ImapSettingsRecord> {
  const saved = await withRetry<ImapSettingsRecord>(async () => {
    const e = await svc.kv.get<Partial<ImapSettingsRecord>>(keys.settings("imap"));
    const cur = normalizeRecord(e.value);
    const next = await applyImapPatch(svc, cur, patch);
    next.revision = cur.revision + 1;
    next.updated_at = new Date().toISOString();
    const res = await svc.kv.atomic().check(e).set(keys.settings("imap"), next).commit();
    return res.ok ? { ok: true as const, value: next } : { ok: false as const };
  });
  try {
    await svc.ext.imapSettingsChanged?.(saved);
  } catch {
    // the scheduler notices on its next tick anyway
  }
  return saved;
}

/** The stored password in clear, or "" when none is set. */
export async function imapPassword(svc: Services, s: ImapSettingsRecord): Promise<string> {
  if (!s.password_sealed) return "";
  return await svc.vault.open(s.password_sealed);
}

/** The last poll record, or null before the first poll. */
export async function getLastPoll(svc: Services): Promise<LastPoll | null> {
  return (await svc.kv.get<LastPoll>(keys.lastPoll())).value ?? null;
}

/** The public view: never the password or any token. */
export function publicImapSettings(
  s: ImapSettingsRecord,
  lastPoll: LastPoll | null,
): PublicImapSettings {
  return {
    host: s.host,
    port: s.port,
    security: s.security,
    tls_verify: s.tls_verify,
    username: s.username,
    password_set: s.password_sealed !== null,
    mailbox: s.mailbox,
    processed_mailbox: s.processed_mailbox,
    poll_interval: s.poll_interval,
    auth: s.auth,
    provider: s.provider,
    idle: s.idle,
    enabled: s.enabled,
    last_poll: lastPoll,
  };
}
