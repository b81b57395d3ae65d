/**
 * The store stage of ingestion: one parsed mail becomes a new ticket or a message on an
 * existing one, in ONE atomic commit that also writes the dedupe marker (so a crash before or
 * after it never doubles or loses the mail).
 *
 * Rules:
 *  - a mail whose dedupe key is stored already is a duplicate (nothing written);
 *  - a mail whose Message-ID is already on a ticket without having been imported (our own
 *    outbound reply coming back, e.g. through a Bcc or a server-side copy) is skipped;
 *  - threading (`thread.ts`) picks the ticket (bounces also by the quoted original's id); a reply to a resolved/closed ticket reopens it;
 *  - auto-replies and bounces are stored with `auto: true` on a matching ticket, never reopen
 *    it, and are skipped when nothing matches (they never open a ticket);
 *  - attachments go to blobs first; `cid:` links in the HTML point at
 *    `/api/v1/attachments/<id>`.
 *
 * @module
 */
import type { Services } from "../state.ts";
import { keys } from "../db/keys.ts";
import {
  appendMessage,
  createTicket,
  type NewAttachment,
  newAttachmentId,
  type NewMessage,
} from "../db/messages.ts";
import { rewriteCidUrls } from "./sanitize.ts";
import type { ParsedMail } from "./parse.ts";
import {
  findThread,
  kvThreadLookup,
  quotedMessageIds,
  type ThreadLookup,
  type ThreadRule,
  type TicketEntries,
} from "./thread.ts";
import { logger } from "../log.ts";

const log = logger("ingest");

/** What happened to one mail. */
export type IngestOutcome =
  | { status: "created"; ticket_id: number; message_id: string }
  | {
    status: "threaded";
    ticket_id: number;
    message_id: string;
    rule: ThreadRule;
    reopened: boolean;
  }
  | { status: "duplicate"; ticket_id: number | null }
  | { status: "skipped"; reason: "auto_unmatched" | "own_message" };

export interface IngestOptions {
  lookup?: ThreadLookup;
  /** The raw mail: bounces are threaded by the original's Message-ID quoted in their body. */
  raw?: Uint8Array;
  /**
   * What the caller read already in a batched pre-check (the poll's headers-first stage):
   * the dedupe key was absent and the Message-ID is on no ticket. Saves two reads; the dedupe
   * check inside the commit still guarantees exactly once.
   */
  prechecked?: boolean;
  /**
   * Thread index values the caller read ahead (lowercased Message-ID → ticket, null for
   * none) and knows to be current; threading reads only the other ids.
   */
  knownThreadIds?: ReadonlyMap<string, number | null>;
}

/** Attachments with preset ids, and the HTML with its cid: links rewritten to them. */
export function prepareAttachments(
  mail: Pick<ParsedMail, "attachments" | "html">,
): { attachments: NewAttachment[]; html: string | null } {
  const map: Record<string, string> = {};
  const attachments: NewAttachment[] = mail.attachments.map((a) => {
    const id = newAttachmentId();
    if (a.contentId) map[a.contentId] = `/api/v1/attachments/${id}`;
    return {
      id,
      filename: a.filename,
      content_type: a.contentType,
      content: a.content,
      content_id: a.contentId,
      inline: a.inline,
    };
  });
  const html = mail.html && Object.keys(map).length > 0
    ? rewriteCidUrls(mail.html, map)
    : mail.html;
  return { attachments, html };
}

/** The message record for an inbound mail. */
export function inboundMessage(mail: ParsedMail): NewMessage {
  const { attachments, html } = prepareAttachments(mail);
  const email = mail.from?.email ?? "";
  return {
    direction: "inbound",
    author_name: mail.from?.name || email,
    author_email: email,
    author_user_id: null,
    body_text: mail.text,
    body_html: html,
    via_email: true,
    message_id: mail.messageId,
    auto: mail.auto !== null,
    attachments,
    in_reply_to: mail.inReplyTo[0] ?? null,
    references: mail.references,
    reply_to: mail.replyTo ? { email: mail.replyTo.email, name: mail.replyTo.name } : null,
  };
}

/**
 * Store one parsed mail under its dedupe key (see the module doc for the rules).
 */
export async function ingestParsed(
  svc: Services,
  mail: ParsedMail,
  dedupe: string,
  opts: IngestOptions = {},
): Promise<IngestOutcome> {
  const kv = svc.kv;
  const entries = new Map<number, TicketEntries>();
  const lookup = opts.lookup ?? kvThreadLookup(kv, entries, opts.knownThreadIds);
  // checked here (or by the caller's batched pre-check): no second read in the store step
  const prechecked = true;
  if (!opts.prechecked) {
    const dup = await kv.get<{ ticket_id: number }>(keys.dedupe(dedupe));
    if (dup.value) return { status: "duplicate", ticket_id: dup.value.ticket_id ?? null };
    if (mail.messageId && (await lookup.ticketByMessageId(mail.messageId)) !== null) {
      return { status: "skipped", reason: "own_message" };
    }
  }
  const quoted = mail.auto === "bounce" && opts.raw
    ? quotedMessageIds(opts.raw, mail.messageId)
    : [];
  const decision = await findThread(mail, lookup, quoted);
  if (decision.untrusted.length > 0) {
    log.info("thread match ignored: sender not part of the ticket", {
      from: mail.from?.email ?? "",
      candidates: decision.untrusted.map((c) => `${c.rule}:#${c.ticketId}`).join(","),
    });
  }
  const isAuto = mail.auto !== null;
  if (!decision.match && isAuto) return { status: "skipped", reason: "auto_unmatched" };
  const msg = inboundMessage(mail);
  if (decision.match) {
    const m = decision.match;
    const res = await appendMessage(
      kv,
      m.ticketId,
      msg,
      { reopen: !isAuto, current: entries.get(m.ticketId) },
      { dedupe, prechecked },
    );
    if (res.duplicate) return { status: "duplicate", ticket_id: res.ticket_id };
    return {
      status: "threaded",
      ticket_id: m.ticketId,
      message_id: res.message.id,
      rule: m.rule,
      reopened: !isAuto && (m.status === "resolved" || m.status === "closed") &&
        res.ticket.status === "open",
    };
  }
  const res = await createTicket(kv, {
    subject: mail.subject,
    source: "email",
    from_name: mail.from?.name || mail.from?.email || "",
    from_email: mail.from?.email ?? "",
    customer_id: null,
    status: "new",
    first: msg,
  }, { dedupe, prechecked });
  if (res.duplicate) return { status: "duplicate", ticket_id: res.ticket_id };
  return { status: "created", ticket_id: res.ticket.id, message_id: res.message.id };
}
