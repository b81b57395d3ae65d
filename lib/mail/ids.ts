/**
 * Message-ID handling, dedupe keys and ticket tags: the identifiers that threading and
 * exactly-once ingestion rely on. Pure functions, no I/O.
 *
 * @module
 */
import { ulid } from "ulid";

/** Longest id we accept (RFC 5322 caps a line at 998 octets; real ids are under 250). */
export const MAX_MESSAGE_ID_LENGTH = 900;
/** Most ids read from one References / In-Reply-To value; bounds work on hostile headers. */
export const MAX_REFERENCE_IDS = 500;
/** Largest ticket number accepted from a header or subject tag (2^31 - 1). */
export const MAX_TICKET_ID = 2 ** 31 - 1;

// Whitespace, brackets and control characters never belong inside an id.
// deno-lint-ignore no-control-regex -- matching control characters is the point
const BAD_ID_CHARS = /[\s<>\u0000-\u001f\u007f]/;

function checkIdBody(body: string): string | null {
  if (body.length === 0 || body.length > MAX_MESSAGE_ID_LENGTH) return null;
  if (BAD_ID_CHARS.test(body)) return null;
  // Broken mailers send ids without "@" (e.g. "<20240101123456.ABCDEF>"); they still thread,
  // so accept them when long enough to be unlikely to collide, and reject short junk.
  const at = body.indexOf("@");
  if (at > 0 && at < body.length - 1) return body;
  if (at === -1 && body.length >= 8 && /[a-z0-9]/i.test(body)) return body;
  return null;
}

/**
 * Normalize a Message-ID-like value to its `<id>` form.
 *
 * Takes the first `<...>` group when there is one (so comments and display text around it
 * are ignored), otherwise the trimmed value itself. Returns null for empty, whitespace-only
 * or garbage values (internal whitespace, control characters, `<>`, bare "@", too long).
 */
export function normalizeMessageId(v: string | null | undefined): string | null {
  if (typeof v !== "string") return null;
  const trimmed = v.trim();
  if (trimmed === "") return null;
  const open = trimmed.indexOf("<");
  if (open !== -1) {
    const close = trimmed.indexOf(">", open + 1);
    if (close === -1) return null;
    const body = checkIdBody(trimmed.slice(open + 1, close).trim());
    return body === null ? null : `<${body}>`;
  }
  const body = checkIdBody(trimmed);
  return body === null ? null : `<${body}>`;
}

/**
 * All message ids in a References or In-Reply-To value, in order, deduplicated, at most
 * {@link MAX_REFERENCE_IDS}. Values without any angle brackets (seen from broken mailers) are
 * split on whitespace and commas instead.
 */
export function extractMessageIds(v: string | null | undefined): string[] {
  if (typeof v !== "string" || v.trim() === "") return [];
  const out: string[] = [];
  const seen = new Set<string>();
  const push = (candidate: string) => {
    const id = normalizeMessageId(candidate);
    if (id !== null && !seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
  };
  if (v.includes("<")) {
    const re = /<([^<>]*)>/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(v)) !== null && out.length < MAX_REFERENCE_IDS) push(`<${m[1]}>`);
  } else {
    for (const token of v.split(/[\s,]+/)) {
      if (out.length >= MAX_REFERENCE_IDS) break;
      push(token);
    }
  }
  return out;
}

function toHex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The key that makes ingestion exactly-once: hex SHA-256 of `"mid:" + lowercased id` when the
 * mail has a Message-ID, else of `"raw:"` followed by the raw bytes. Ids are compared
 * case-insensitively because some servers rewrite their case in transit.
 */
export async function dedupeKey(messageId: string | null, raw: Uint8Array): Promise<string> {
  const id = normalizeMessageId(messageId);
  const enc = new TextEncoder();
  let data: Uint8Array<ArrayBuffer>;
  if (id !== null) {
    data = enc.encode("mid:" + id.toLowerCase());
  } else {
    const prefix = enc.encode("raw:");
    data = new Uint8Array(prefix.length + raw.length);
    data.set(prefix, 0);
    data.set(raw, prefix.length);
  }
  return toHex(await crypto.subtle.digest("SHA-256", data));
}

const DOMAIN_RE =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * A fresh Message-ID `<ULID.random@domain>`. The ULID sorts by time; the random suffix keeps ids
 * unique across processes in the same millisecond. An invalid domain falls back to
 * `warmdesk.invalid` rather than throwing, so a queue worker never fails on it.
 */
export function newMessageId(domain: string): string {
  let d = String(domain ?? "").trim().toLowerCase();
  if (d.startsWith("[") || !DOMAIN_RE.test(d)) d = "warmdesk.invalid";
  const rand = crypto.getRandomValues(new Uint8Array(6));
  const suffix = Array.from(rand, (b) => b.toString(16).padStart(2, "0")).join("");
  return `<${ulid()}.${suffix}@${d}>`;
}

/** Parse a decimal ticket number: digits only, 1..{@link MAX_TICKET_ID}, else null. */
export function parseTicketNumber(v: string | null | undefined): number | null {
  if (typeof v !== "string") return null;
  const s = v.trim();
  if (!/^\d{1,10}$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= MAX_TICKET_ID ? n : null;
}

/**
 * The ticket number of the first valid `[#N]` tag anywhere in a subject, or null. Tags with 0,
 * too many digits or a number above {@link MAX_TICKET_ID} are skipped.
 */
export function subjectTicketTag(subject: string): number | null {
  if (typeof subject !== "string") return null;
  const re = /\[#(\d{1,12})\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(subject)) !== null) {
    const n = parseTicketNumber(m[1]);
    if (n !== null) return n;
  }
  return null;
}
