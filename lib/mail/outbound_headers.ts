/**
 * Header values for outbound replies, built only from checked input so that no CR/LF (header
 * injection) or control character can reach the wire. Pure; nodemailer receives the results.
 *
 * @module
 */
import { extractMessageIds, normalizeMessageId } from "./ids.ts";

/** Most ids in an outbound References header: the first (thread root) plus the last 20. */
export const MAX_REFERENCES = 21;
/** Longest subject remainder kept after the `Re: [#N] ` prefix. */
export const MAX_SUBJECT_CHARS = 500;
/** Longest display name kept. */
export const MAX_DISPLAY_NAME_CHARS = 100;

// C0/C1 controls, DEL, Unicode line/paragraph separators, NEL, and the zero-width / bidi
// formatting characters that only serve to disguise text.
// deno-lint-ignore no-control-regex
const UNSAFE_CHARS = new RegExp(
  "[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u200b-\\u200f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]",
  "g",
);

/** A single-line header value: every control character becomes a space, whitespace collapses. */
export function safeHeaderValue(v: string): string {
  if (typeof v !== "string") return "";
  return v.replace(UNSAFE_CHARS, " ").replace(/\s+/g, " ").trim();
}

/**
 * A display name safe to hand to nodemailer as `{name, address}`: one line, without quotes,
 * backslashes, angle brackets or commas (which could make a mail client read a second
 * address), at most {@link MAX_DISPLAY_NAME_CHARS} characters.
 */
export function safeDisplayName(v: string): string {
  const s = safeHeaderValue(v).replace(/["\\<>,;:@]/g, " ").replace(/\s+/g, " ").trim();
  return Array.from(s).slice(0, MAX_DISPLAY_NAME_CHARS).join("").trim();
}

const LOCAL_RE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Conservative address check for outbound use: ASCII dot-atom local part (no quoted strings),
 * a hostname domain (single-label names such as `localhost` allowed, IP literals not), at
 * most 254 characters. Rejects whitespace, CR/LF, commas, angle brackets and quotes.
 */
export function isValidEmail(v: string): boolean {
  if (typeof v !== "string" || v.length === 0 || v.length > 254) return false;
  const at = v.lastIndexOf("@");
  if (at <= 0 || at !== v.indexOf("@")) return false;
  const local = v.slice(0, at);
  const domain = v.slice(at + 1);
  if (local.length > 64 || !LOCAL_RE.test(local)) return false;
  if (domain.length === 0 || domain.length > 253) return false;
  const labels = domain.split(".");
  if (!labels.every((l) => LABEL_RE.test(l))) return false;
  // A top-level label is never all digits: that would be a bare IP address.
  return !/^\d+$/.test(labels[labels.length - 1]);
}

// Reply/forward prefixes in common languages, optionally with a counter ("RE[2]:", "Re^3:").
const PREFIX_RE =
  /^\s*(?:re|aw|sv|vs|antw|antwort|ref|rif|réf|fw|fwd|wg|tr|rv|enc|doorst|odp|yn|回复|回覆|答复|转发)\s*(?:\[\d+\]|\^\d+|\(\d+\))?\s*[:：]\s*/i;
const TAG_RE = /\[#\d+\]/g;

/**
 * `Re: [#N] <subject>` with any leading Re:/RE:/Aw:/Fwd: (repeated, any order) and every
 * existing `[#N]` tag stripped, on one line, so replies never stack `Re:` prefixes.
 */
export function replySubject(ticketId: number, subject: string): string {
  if (!Number.isSafeInteger(ticketId) || ticketId < 1) {
    throw new RangeError(`invalid ticket id: ${ticketId}`);
  }
  let s = safeHeaderValue(String(subject ?? ""));
  for (let i = 0; i < 50; i++) {
    const next = s.replace(TAG_RE, " ").replace(/\s+/g, " ").trim().replace(PREFIX_RE, "");
    if (next === s) break;
    s = next;
  }
  s = s.replace(TAG_RE, " ").replace(/\s+/g, " ").trim();
  s = Array.from(s).slice(0, MAX_SUBJECT_CHARS).join("").trim();
  return s === "" ? `Re: [#${ticketId}]` : `Re: [#${ticketId}] ${s}`;
}

/**
 * The References list for a reply to `inbound`: its References followed by its own id,
 * normalized and deduplicated, capped to the first id plus the last 20 (RFC 5322 §3.6.4
 * suggests keeping the root and the most recent ids). Null inbound → [].
 */
export function referencesChain(
  inbound: { messageId: string | null; references: string[] } | null,
): string[] {
  if (!inbound) return [];
  const ids: string[] = [];
  const seen = new Set<string>();
  const add = (id: string | null) => {
    if (id !== null && !seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  };
  for (const r of inbound.references ?? []) {
    for (const id of extractMessageIds(r)) add(id);
  }
  add(normalizeMessageId(inbound.messageId));
  if (ids.length <= MAX_REFERENCES) return ids;
  return [ids[0], ...ids.slice(ids.length - (MAX_REFERENCES - 1))];
}
