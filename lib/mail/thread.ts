/**
 * The thread stage of ingestion: which existing ticket a mail belongs to, if any.
 *
 * Candidates, in order (release notes, "Reply threading"):
 *  1. our `X-WarmDesk-Ticket-Id` header;
 *  2. `In-Reply-To` (the id of a stored inbound mail or of one of our outbound replies);
 *  3. every id in `References`, newest (last) first, so a match anywhere in the chain counts;
 *  4. for bounces only: the Message-ID of the original mail quoted in the bounce's body (a
 *     DSN's `text/rfc822-headers` part, or the headers a legacy MTA pastes into its text);
 *  5. a `[#N]` tag in the subject.
 *
 * Trust rule: anyone can type our header or a subject tag (ticket numbers are sequential), so
 * a header or tag candidate counts only when the sender took part in that ticket
 * (`keys.ticketParticipant`: every inbound author and Reply-To address) or shares the
 * original sender's domain. Shared freemail domains (gmail.com, ...) do not count as "the same
 * organisation". Message-ID matches (rules 2-4) need no such check: ids are unguessable, and
 * whoever holds one received the mail. The first trusted candidate wins; a mail whose
 * candidates are all untrusted opens a new ticket.
 *
 * @module
 */
import { keys } from "../db/keys.ts";
import { KV_GET_MANY_MAX } from "../db/limits.ts";
import { readersVersionKey, type TicketRecord } from "../db/tickets.ts";
import type { ParsedMail } from "./parse.ts";

/** What threading reads from storage; small so tests can fake it. */
export interface ThreadLookup {
  /** Ticket holding a message with this RFC 5322 id (any case, with brackets). */
  ticketByMessageId(id: string): Promise<number | null>;
  /** The same for many ids at once (optional: a batched read). */
  ticketsByMessageIds?(ids: string[]): Promise<(number | null)[]>;
  ticket(id: number): Promise<Pick<TicketRecord, "id" | "from_email" | "status"> | null>;
  isParticipant(ticketId: number, email: string): Promise<boolean>;
}

/** Which rule produced a match. */
export type ThreadRule = "header" | "in-reply-to" | "references" | "quoted" | "subject";

/** Rules whose match anyone could forge: they need the trust rule. */
const GUESSABLE: ReadonlySet<ThreadRule> = new Set(["header", "subject"]);

/** Most bytes of a bounce's body searched for the original's Message-ID. */
export const QUOTED_SCAN_BYTES = 256 * 1024;

/**
 * Message-IDs quoted in a mail's body (`Message-ID:` lines of returned headers), in order,
 * without the mail's own id. For bounces, whose headers rarely reference the original.
 */
export function quotedMessageIds(raw: Uint8Array, ownId: string | null): string[] {
  const text = new TextDecoder("latin1").decode(raw.subarray(0, QUOTED_SCAN_BYTES));
  const start = text.search(/\r?\n\r?\n/);
  const body = start === -1 ? "" : text.slice(start);
  const out: string[] = [];
  const re = /^[ \t>]*Message-ID:[ \t]*(<[^<>\s]{1,900}>)/gim;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null && out.length < 20) {
    const id = m[1];
    if (id.toLowerCase() !== ownId?.toLowerCase() && !out.includes(id)) out.push(id);
  }
  return out;
}

export interface ThreadCandidate {
  ticketId: number;
  rule: ThreadRule;
}

export interface ThreadDecision {
  /** The ticket to append to, or null for a new ticket. */
  match: (ThreadCandidate & { status: TicketRecord["status"] }) | null;
  /** Candidates that pointed at an existing ticket but failed the trust rule. */
  untrusted: ThreadCandidate[];
}

/** Domains many unrelated people share: a common domain there proves nothing. */
export const SHARED_DOMAINS = new Set([
  "gmail.com",
  "googlemail.com",
  "outlook.com",
  "hotmail.com",
  "live.com",
  "msn.com",
  "yahoo.com",
  "ymail.com",
  "icloud.com",
  "me.com",
  "mac.com",
  "aol.com",
  "gmx.de",
  "gmx.net",
  "gmx.com",
  "web.de",
  "mail.com",
  "proton.me",
  "protonmail.com",
  "pm.me",
  "yandex.ru",
  "mail.ru",
  "qq.com",
  "163.com",
  "126.com",
  "zoho.com",
  "fastmail.com",
]);

/** The lowercased domain of an address, "" when it has none. */
export function domainOf(email: string): string {
  const at = email.lastIndexOf("@");
  return at === -1 ? "" : email.slice(at + 1).trim().toLowerCase().replace(/\.$/, "");
}

/** Candidate tickets of a mail in rule order, without storage lookups for header/tag. */
export async function threadCandidates(
  mail: Pick<ParsedMail, "warmdeskTicketId" | "inReplyTo" | "references" | "subjectTicketId">,
  lookup: Pick<ThreadLookup, "ticketByMessageId" | "ticketsByMessageIds">,
  quoted: string[] = [],
): Promise<ThreadCandidate[]> {
  const out: ThreadCandidate[] = [];
  if (mail.warmdeskTicketId) out.push({ ticketId: mail.warmdeskTicketId, rule: "header" });
  const refs = [...mail.references].reverse();
  const ids = [...mail.inReplyTo, ...refs, ...quoted];
  // one batched read for every id when the lookup can (most mail has a handful)
  const found = lookup.ticketsByMessageIds
    ? await lookup.ticketsByMessageIds(ids)
    : await Promise.all(ids.map((id) => lookup.ticketByMessageId(id)));
  ids.forEach((_, i) => {
    const t = found[i];
    if (t === null || t === undefined) return;
    const rule: ThreadRule = i < mail.inReplyTo.length
      ? "in-reply-to"
      : i < mail.inReplyTo.length + refs.length
      ? "references"
      : "quoted";
    out.push({ ticketId: t, rule });
  });
  if (mail.subjectTicketId) out.push({ ticketId: mail.subjectTicketId, rule: "subject" });
  return out;
}

/** Whether `sender` may add to a ticket (see the trust rule in the module doc). */
export async function trusted(
  ticket: Pick<TicketRecord, "id" | "from_email">,
  sender: string,
  lookup: Pick<ThreadLookup, "isParticipant">,
): Promise<boolean> {
  const email = sender.trim().toLowerCase();
  if (!email) return false;
  if (ticket.from_email && ticket.from_email.toLowerCase() === email) return true;
  if (await lookup.isParticipant(ticket.id, email)) return true;
  const d = domainOf(email);
  return d !== "" && !SHARED_DOMAINS.has(d) && d === domainOf(ticket.from_email ?? "");
}

/**
 * Decide where a mail goes: the first trusted candidate, else a new ticket. `quoted`: ids
 * quoted in a bounce's body ({@link quotedMessageIds}).
 */
export async function findThread(
  mail: Pick<
    ParsedMail,
    "warmdeskTicketId" | "inReplyTo" | "references" | "subjectTicketId" | "from"
  >,
  lookup: ThreadLookup,
  quoted: string[] = [],
): Promise<ThreadDecision> {
  const untrusted: ThreadCandidate[] = [];
  const seen = new Map<number, boolean>();
  const sender = mail.from?.email ?? "";
  for (const c of await threadCandidates(mail, lookup, quoted)) {
    const ticket = await lookup.ticket(c.ticketId);
    if (!ticket) continue;
    let ok = GUESSABLE.has(c.rule) ? seen.get(ticket.id) : true;
    if (ok === undefined) {
      ok = await trusted(ticket, sender, lookup);
      seen.set(ticket.id, ok);
    }
    if (ok) return { match: { ...c, status: ticket.status }, untrusted };
    untrusted.push(c);
  }
  return { match: null, untrusted };
}

/** A ticket entry as threading read it, with its readers' version entry read alongside. */
export interface TicketEntries {
  ticket: Deno.KvEntryMaybe<TicketRecord>;
  readersVersion: Deno.KvEntryMaybe<unknown>;
}

/**
 * The lookup over the real KV keys. `entries`, when given, collects the ticket entries read
 * (with the readers' version, in the same read), so the store step can check against them
 * instead of reading them again. `known`: thread index values (lowercased id → ticket, or
 * null for none) the caller read already and knows to be current; other ids are read.
 */
export function kvThreadLookup(
  kv: Deno.Kv,
  entries?: Map<number, TicketEntries>,
  known?: ReadonlyMap<string, number | null>,
): ThreadLookup {
  return {
    async ticketByMessageId(id) {
      const e = await kv.get<number>(keys.threadIndex(id.toLowerCase()));
      return typeof e.value === "number" ? e.value : null;
    },
    async ticketsByMessageIds(ids) {
      const out = ids.map((id) => known?.get(id.toLowerCase()));
      const missing = ids.filter((_, i) => out[i] === undefined);
      const read: (number | null)[] = [];
      for (let i = 0; i < missing.length; i += KV_GET_MANY_MAX) {
        const got = await kv.getMany<number[]>(
          missing.slice(i, i + KV_GET_MANY_MAX).map((id) => keys.threadIndex(id.toLowerCase())),
        );
        for (const e of got) read.push(typeof e.value === "number" ? e.value : null);
      }
      let r = 0;
      return out.map((v) => v === undefined ? read[r++] : v);
    },
    async ticket(id) {
      const [ticket, readersVersion] = await kv.getMany<[TicketRecord, unknown]>([
        keys.ticket(id),
        readersVersionKey(id),
      ]);
      entries?.set(id, { ticket, readersVersion });
      return ticket.value ?? null;
    },
    async isParticipant(ticketId, email) {
      return (await kv.get(keys.ticketParticipant(ticketId, email.toLowerCase()))).value !== null;
    },
  };
}
