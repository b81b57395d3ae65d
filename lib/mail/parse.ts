/**
 * Raw RFC 5322 bytes → one normalized {@link ParsedMail}: the "parse" stage of ingestion.
 * postal-mime does the MIME work; this module adds validation, bounds, header decoding
 * fallbacks, sanitized HTML, text derivation, ticket hints and auto/bounce classification.
 *
 * A message is rejected with {@link MailParseError} when (checked in this order):
 *  1. it is empty;
 *  2. its header section is larger than {@link MAX_HEADER_BYTES} or has more than
 *     {@link MAX_HEADER_FIELDS} fields;
 *  3. its header section contains a NUL byte (binary data, not text);
 *  4. its first line is not a header field (`Name: value`; a leading mbox `From ` line is
 *     skipped);
 *  5. postal-mime throws (for example nesting deeper than {@link MAX_MIME_DEPTH});
 *  6. it has none of From, Message-ID and Subject.
 * Everything else parses leniently: broken boundaries, bad charsets, invalid dates and
 * garbage ids give partial data (null/empty fields), never an exception.
 *
 * @module
 */
import PostalMime from "postal-mime";
import type { Address as PmAddress, Attachment as PmAttachment } from "postal-mime";
import { classify } from "./classify.ts";
import {
  extractMessageIds,
  normalizeMessageId,
  parseTicketNumber,
  subjectTicketTag,
} from "./ids.ts";
import { safeHeaderValue } from "./outbound_headers.ts";
import { htmlToText, sanitizeEmailHtml } from "./sanitize.ts";

/** Largest header section accepted (top-level headers), in bytes. */
export const MAX_HEADER_BYTES = 1024 * 1024;
/** Most top-level header fields accepted. */
export const MAX_HEADER_FIELDS = 5000;
/** Total header bytes across all MIME parts, passed to postal-mime. */
export const MAX_ALL_HEADERS_BYTES = 4 * 1024 * 1024;
/** Deepest MIME nesting accepted. */
export const MAX_MIME_DEPTH = 50;
/** Deepest inline message/rfc822 nesting; deeper ones become attachments. */
export const MAX_RFC822_DEPTH = 3;
/** Most attachments kept; the rest are dropped and counted in `attachmentsDropped`. */
export const MAX_ATTACHMENTS = 1000;
/** Default byte budget of {@link headerBlock}: the same as the full parse, so that both see
 * the same Message-ID. */
export const DEFAULT_HEADER_BLOCK_BYTES = MAX_HEADER_BYTES;

/** A mailbox: `email` lowercased and trimmed, `name` decoded and on one line ("" if none). */
export interface Address {
  name: string;
  email: string;
}

/** One attachment or inline part of a parsed mail. */
export interface ParsedAttachment {
  filename: string;
  contentType: string;
  /** Content-ID without angle brackets, or null. */
  contentId: string | null;
  /** True when the HTML body references the part by `cid:`. */
  inline: boolean;
  content: Uint8Array;
  size: number;
}

/** The normalized result of {@link parseMail}. */
export interface ParsedMail {
  /** `<id@host>` with angle brackets, or null when absent or garbage. */
  messageId: string | null;
  inReplyTo: string[];
  references: string[];
  /** Decoded, one line, trimmed. */
  subject: string;
  from: Address | null;
  replyTo: Address | null;
  to: Address[];
  cc: Address[];
  /** Return-Path address, "" for the null sender `<>`, null when the header is absent. */
  returnPath: string | null;
  /** ISO 8601 UTC, or null when absent or unparseable. */
  date: string | null;
  /** Always present; derived from the HTML when there is no text part. */
  text: string;
  /** Sanitized HTML with `cid:` URLs left for the store step, or null. */
  html: string | null;
  attachments: ParsedAttachment[];
  /** Attachments beyond {@link MAX_ATTACHMENTS} that were dropped. */
  attachmentsDropped: number;
  auto: "auto-reply" | "bounce" | null;
  /** `X-WarmDesk-Ticket-Id`, a positive integer, else null. */
  warmdeskTicketId: number | null;
  /** First `[#N]` tag in the subject, else null. */
  subjectTicketId: number | null;
  /** Top-level headers in order, keys lowercased, values unfolded and undecoded. */
  headers: { key: string; value: string }[];
}

/** Thrown for input that is not an email (rules in the module doc). */
export class MailParseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MailParseError";
  }
}

const FIELD_LINE = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

/**
 * Where the header section ends: `headerEnd` is the offset of the line break before the blank
 * line, `bodyStart` the first body byte, `found` false when no blank line occurs within
 * `maxBytes` (then the section is taken as everything scanned).
 */
export function headerBlockEnd(
  raw: Uint8Array,
  maxBytes: number,
): { headerEnd: number; bodyStart: number; found: boolean } {
  const limit = Math.min(raw.length, Math.max(0, maxBytes));
  // A message that starts with a blank line has no headers at all.
  if (raw[0] === 0x0a) return { headerEnd: 0, bodyStart: 1, found: true };
  if (raw[0] === 0x0d && raw[1] === 0x0a) return { headerEnd: 0, bodyStart: 2, found: true };
  let i = raw.indexOf(0x0a);
  while (i !== -1 && i < limit) {
    if (raw[i + 1] === 0x0a) return { headerEnd: i, bodyStart: i + 2, found: true };
    if (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a) {
      return { headerEnd: i, bodyStart: i + 3, found: true };
    }
    i = raw.indexOf(0x0a, i + 1);
  }
  return { headerEnd: limit, bodyStart: limit, found: false };
}

/** Unfold header text into `{key, value}` fields (keys lowercased), like postal-mime does. */
function headerListFromText(text: string): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line)) {
      if (out.length > 0) out[out.length - 1].value += line;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    out.push({
      key: line.slice(0, colon).trim().toLowerCase(),
      value: line.slice(colon + 1).trim(),
    });
    if (out.length >= MAX_HEADER_FIELDS) break;
  }
  return out;
}

/** The ids of a header list; shared by the full parse and the headers-only fast path. */
function headerIdsFromList(
  headers: { key: string; value: string }[],
): { messageId: string | null; inReplyTo: string[]; references: string[] } {
  const refs = headers.filter((h) => h.key === "references").map((h) => h.value).join(" ");
  return {
    messageId: normalizeMessageId(headers.find((h) => h.key === "message-id")?.value),
    inReplyTo: extractMessageIds(headers.find((h) => h.key === "in-reply-to")?.value),
    references: extractMessageIds(refs),
  };
}

/** Decode header bytes: UTF-8, else ISO-2022-JP (escape sequences), else the declared body
 * charset, else windows-1252. Returns the text and whether it differs from plain UTF-8. */
function decodeHeaderBytes(bytes: Uint8Array): { text: string; transcoded: boolean } {
  const hasEsc = bytes.includes(0x1b);
  if (!hasEsc) {
    try {
      return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), transcoded: false };
    } catch { /* not UTF-8: raw 8-bit legacy charset */ }
  }
  const latin = new TextDecoder("windows-1252").decode(bytes);
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  let charset = hasEsc && /\x1b\$[@B]/.test(latin) ? "iso-2022-jp" : null;
  if (charset === null) {
    const m = /^content-type:[^\r\n]*?charset\s*=\s*"?([a-z0-9_.:-]+)/im.exec(latin);
    charset = m ? m[1].toLowerCase() : "windows-1252";
  }
  if (hasEsc && charset !== "iso-2022-jp") {
    // ESC without a JIS sequence: keep the UTF-8 reading.
    return { text: new TextDecoder("utf-8").decode(bytes), transcoded: false };
  }
  try {
    return { text: new TextDecoder(charset).decode(bytes), transcoded: true };
  } catch {
    return { text: latin, transcoded: true };
  }
}

/**
 * The raw header section of a message as text (without the blank line that ends it), read
 * from at most `maxBytes` bytes. Cheap: no MIME parsing; for the "headers first" dedupe stage.
 */
export function headerBlock(raw: Uint8Array, maxBytes = DEFAULT_HEADER_BLOCK_BYTES): string {
  const end = headerBlockEnd(raw, maxBytes);
  return decodeHeaderBytes(raw.subarray(0, end.headerEnd)).text;
}

/** Message-ID, In-Reply-To and References from header text (e.g. {@link headerBlock}). */
export function parseHeaderIds(
  headerText: string,
): { messageId: string | null; inReplyTo: string[]; references: string[] } {
  return headerIdsFromList(headerListFromText(headerText));
}

function oneLine(v: string | undefined | null): string {
  return safeHeaderValue(v ?? "");
}

function toAddresses(list: PmAddress[] | PmAddress | undefined): Address[] {
  const out: Address[] = [];
  const items = list === undefined ? [] : Array.isArray(list) ? list : [list];
  for (const item of items) {
    const boxes = item.group ? item.group : [item];
    for (const box of boxes) {
      const email = oneLine(box.address).replace(/^<|>$/g, "").toLowerCase().replace(/\s+/g, "");
      if (email !== "") out.push({ name: oneLine(box.name), email });
    }
  }
  return out;
}

function firstHeader(headers: { key: string; value: string }[], key: string): string | null {
  const h = headers.find((x) => x.key === key);
  return h ? h.value : null;
}

function parseReturnPath(v: string | null): string | null {
  if (v === null) return null;
  const m = /<([^<>]*)>/.exec(v);
  const addr = (m ? m[1] : v.replace(/\([^)]*\)/g, "")).trim().toLowerCase();
  return addr.replace(/\s+/g, "");
}

function cidsReferenced(html: string): Set<string> {
  const out = new Set<string>();
  const re = /cid:([^"'\s)>]+)/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(html)) !== null && out.size < MAX_ATTACHMENTS * 2) {
    let id = m[1];
    try {
      id = decodeURIComponent(id);
    } catch { /* keep as is */ }
    out.add(id.trim().replace(/^<|>$/g, "").toLowerCase());
  }
  return out;
}

function safeFilename(name: string | null, index: number, mimeType: string): string {
  const cleaned = oneLine(name ?? "").replace(/[\\/]/g, "_").replace(/^\.+/, "").trim();
  if (cleaned !== "") return Array.from(cleaned).slice(0, 200).join("");
  const sub = mimeType.split("/")[1] ?? "";
  const ext = /^[a-z0-9]{1,8}$/.test(sub) ? `.${sub}` : "";
  return `attachment-${index + 1}${ext}`;
}

function toAttachment(a: PmAttachment, i: number, cids: Set<string>): ParsedAttachment {
  const content = typeof a.content === "string"
    ? new TextEncoder().encode(a.content)
    : a.content instanceof Uint8Array
    ? a.content
    : new Uint8Array(a.content);
  const contentType = (a.mimeType || "application/octet-stream").toLowerCase();
  const cid = a.contentId ? oneLine(a.contentId).replace(/^<|>$/g, "").trim() : "";
  return {
    filename: safeFilename(a.filename, i, contentType),
    contentType,
    contentId: cid === "" ? null : cid,
    inline: cid !== "" && cids.has(cid.toLowerCase()),
    content,
    size: content.byteLength,
  };
}

function checkHeaderSection(raw: Uint8Array): { headerEnd: number; bodyStart: number } {
  if (!(raw instanceof Uint8Array)) throw new MailParseError("input is not a byte array");
  if (raw.byteLength === 0) throw new MailParseError("empty message");
  const end = headerBlockEnd(raw, MAX_HEADER_BYTES);
  if (!end.found && raw.byteLength > MAX_HEADER_BYTES) {
    throw new MailParseError(`header section larger than ${MAX_HEADER_BYTES} bytes`);
  }
  const head = raw.subarray(0, end.headerEnd);
  if (head.includes(0)) throw new MailParseError("binary data in the header section");
  let fields = 0;
  for (let i = 0; i < head.length; i++) {
    if (head[i] === 0x0a && i + 1 < head.length && head[i + 1] !== 0x20 && head[i + 1] !== 0x09) {
      fields++;
    }
  }
  if (fields + 1 > MAX_HEADER_FIELDS) {
    throw new MailParseError(`more than ${MAX_HEADER_FIELDS} header fields`);
  }
  return end;
}

/** Drop a leading mbox "From " separator line, which is not a header. */
function skipMboxLine(raw: Uint8Array): Uint8Array {
  if (raw.length > 5 && String.fromCharCode(...raw.subarray(0, 5)) === "From ") {
    const nl = raw.indexOf(0x0a);
    if (nl !== -1) return raw.subarray(nl + 1);
  }
  return raw;
}

/**
 * Parse one raw message. Throws {@link MailParseError} for input that is not an email (rules
 * in the module doc); anything else yields a best-effort {@link ParsedMail}. Work is bounded by
 * the MAX_* constants of this module.
 */
export async function parseMail(raw: Uint8Array): Promise<ParsedMail> {
  let input = skipMboxLine(raw instanceof Uint8Array ? raw : new Uint8Array(0));
  const { headerEnd } = checkHeaderSection(input);
  const decoded = decodeHeaderBytes(input.subarray(0, headerEnd));
  const firstLine = decoded.text.split(/\r?\n/, 1)[0];
  if (!FIELD_LINE.test(firstLine)) throw new MailParseError("no header block");
  if (decoded.transcoded) {
    // Raw 8-bit headers in a legacy charset: hand postal-mime the UTF-8 equivalent, which
    // it would otherwise decode as UTF-8 and turn into replacement characters.
    const head = new TextEncoder().encode(decoded.text);
    const rest = input.subarray(headerEnd);
    const joined = new Uint8Array(head.length + rest.length);
    joined.set(head, 0);
    joined.set(rest, head.length);
    input = joined;
  }

  let pm;
  try {
    pm = await PostalMime.parse(input, {
      attachmentEncoding: "arraybuffer",
      maxNestingDepth: MAX_MIME_DEPTH,
      maxHeadersSize: MAX_ALL_HEADERS_BYTES,
      maxRfc822NestingDepth: MAX_RFC822_DEPTH,
    });
  } catch (err) {
    throw new MailParseError(`MIME parser failed: ${(err as Error)?.message ?? err}`, {
      cause: err,
    });
  }

  const headers = pm.headers.map((h) => ({ key: h.key, value: h.value }));
  const has = (k: string) => headers.some((h) => h.key === k);
  if (!has("from") && !has("message-id") && !has("subject")) {
    throw new MailParseError("not an email: no From, Message-ID or Subject header");
  }

  const ids = headerIdsFromList(headers);
  const subject = oneLine(pm.subject);
  const from = toAddresses(pm.from)[0] ?? null;
  const returnPath = parseReturnPath(firstHeader(headers, "return-path"));

  let html: string | null = null;
  let cids = new Set<string>();
  if (typeof pm.html === "string" && pm.html.trim() !== "") {
    cids = cidsReferenced(pm.html);
    const clean = sanitizeEmailHtml(pm.html).trim();
    html = clean === "" ? null : clean;
  }
  // Base64 bodies keep their CRLFs through postal-mime; store one line-ending style.
  let text = typeof pm.text === "string" ? pm.text.replace(/\r\n?/g, "\n") : "";
  if (text.trim() === "" && html !== null) text = htmlToText(html);

  const kept = pm.attachments.slice(0, MAX_ATTACHMENTS);
  const date = pm.date && !Number.isNaN(Date.parse(pm.date)) && /^\d{4}-/.test(pm.date)
    ? new Date(pm.date).toISOString()
    : null;

  return {
    messageId: ids.messageId,
    inReplyTo: ids.inReplyTo,
    references: ids.references,
    subject,
    from,
    replyTo: toAddresses(pm.replyTo)[0] ?? null,
    to: toAddresses(pm.to),
    cc: toAddresses(pm.cc),
    returnPath,
    date,
    text,
    html,
    attachments: kept.map((a, i) => toAttachment(a, i, cids)),
    attachmentsDropped: pm.attachments.length - kept.length,
    auto: classify(headers, firstHeader(headers, "content-type"), from, returnPath),
    warmdeskTicketId: parseTicketNumber(firstHeader(headers, "x-warmdesk-ticket-id")),
    subjectTicketId: subjectTicketTag(subject),
    headers,
  };
}

// Re-exported so callers of the parse stage need one import for id helpers.
export { extractMessageIds, normalizeMessageId };
