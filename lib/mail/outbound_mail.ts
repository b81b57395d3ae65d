/**
 * The MIME message of an agent's reply, built for nodemailer from an outbox record and the SMTP
 * settings. Every header value comes from checked input: the subject and display names went
 * through `safeHeaderValue`/`safeDisplayName`, addresses through `isValidEmail`, ids through
 * `normalizeMessageId`; the ticket number is an integer. No `Auto-Submitted`: a human wrote it.
 */
import nodemailer, { type SendMailOptions } from "nodemailer";
import { normalizeMessageId } from "./ids.ts";
import { safeDisplayName, safeHeaderValue } from "./outbound_headers.ts";
import type { OutboxRecord } from "./outbox.ts";

/** Header carrying the plain ticket number; the incoming pipeline threads on it first. */
export const TICKET_ID_HEADER = "X-WarmDesk-Ticket-Id";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/**
 * A simple HTML rendering of a plain-text reply: escaped, paragraphs at blank lines, line
 * breaks kept. Nothing from the text can become markup.
 */
export function textToHtml(text: string): string {
  const paras = text.replace(/\r\n?/g, "\n").split(/\n{2,}/).filter((p) => p.trim() !== "");
  const body = paras.map((p) => `<p>${escapeHtml(p).replace(/\n/g, "<br>\n")}</p>`).join("\n");
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>` +
    `<body style="font-family: sans-serif; font-size: 14px; line-height: 1.4">\n${body}\n` +
    `</body></html>\n`;
}

/** Sender settings the mail needs. */
export interface Sender {
  from_address: string;
  from_name: string;
}

/** nodemailer options for the reply in `rec`, sent as `sender`, with the reply's text. */
export function buildReplyMail(rec: OutboxRecord, sender: Sender, body: string): SendMailOptions {
  const messageId = normalizeMessageId(rec.message_id);
  if (!messageId) throw new Error("outbox record has no valid Message-ID");
  const inReplyTo = normalizeMessageId(rec.in_reply_to);
  const refs = rec.references.map((r) => normalizeMessageId(r)).filter((r): r is string => !!r);
  const fromName = safeDisplayName(sender.from_name);
  const toName = safeDisplayName(rec.to.name);
  return {
    from: fromName ? { name: fromName, address: sender.from_address } : sender.from_address,
    to: toName ? { name: toName, address: rec.to.email } : rec.to.email,
    envelope: { from: sender.from_address, to: rec.to.email },
    subject: safeHeaderValue(rec.subject),
    messageId,
    ...(inReplyTo ? { inReplyTo } : {}),
    ...(refs.length ? { references: refs } : {}),
    headers: { [TICKET_ID_HEADER]: String(Math.trunc(rec.ticket_id)) },
    text: body,
    html: textToHtml(body),
    // never read files or URLs named in the content
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** The raw RFC 5322 bytes of a mail, without sending it. */
export async function renderRaw(mail: SendMailOptions): Promise<Uint8Array> {
  const tr = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "\r\n" });
  const info = await tr.sendMail(mail);
  return new Uint8Array(info.message as Uint8Array);
}

const latin1 = new TextDecoder("latin1");

/**
 * The reply as raw bytes, ready for `{envelope, raw}`. nodemailer writes header names in its
 * own case (`X-Warmdesk-Ticket-ID`); names are case-insensitive, but ours is spelled as
 * documented, so the header block gets that one name back.
 */
export async function renderReplyRaw(mail: SendMailOptions): Promise<Uint8Array> {
  const raw = await renderRaw(mail);
  // the header block is ASCII (nodemailer encodes words), so latin1 round-trips every byte
  const text = latin1.decode(raw);
  const end = text.indexOf("\r\n\r\n");
  const head = text.slice(0, end).replace(
    /(^|\r\n)x-warmdesk-ticket-id:/i,
    `$1${TICKET_ID_HEADER}:`,
  );
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
  out.set(raw.subarray(head.length), head.length);
  return out;
}
