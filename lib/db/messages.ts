/**
 * Messages on tickets, and the two writes that add them: `createTicket` (a new ticket with its
 * first message) and `appendMessage`. Each is one atomic commit: message, ticket, indexes,
 * thread index, participants, dedupe marker, outbox entry and queue message, sentinels.
 */
import { HttpError } from "../fw/mod.ts";
import { keys } from "./keys.ts";
import { commit, withRetry } from "./kv.ts";
import { readJsonBlob, writeBlob, writeJsonBlob } from "./blobs.ts";
import { BLOB_CHUNK_BYTES, INLINE_BODY_BYTES } from "./limits.ts";
import {
  newUlid,
  oneLine,
  readReaders,
  type ReplyTarget,
  stageTicket,
  type TicketRecord,
  type TicketStatus,
} from "./tickets.ts";

export type DeliveryStatus = "queued" | "sent" | "failed";
export interface Delivery {
  status: DeliveryStatus;
  attempts: number;
  error: string | null;
}

export interface AttachmentMeta {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  inline: boolean;
}

/** Stored under ["attachment", id]; the bytes are a blob. */
export interface AttachmentRecord extends AttachmentMeta {
  ticket_id: number;
  message_id: string;
  blob_id: string;
  content_id: string | null;
}

export interface MessageRecord {
  id: string;
  ticket_id: number;
  direction: "inbound" | "outbound";
  author_name: string;
  author_email: string;
  author_user_id: string | null;
  /** Inline bodies, or `body_blob` when they are large. */
  body_text?: string;
  body_html?: string | null;
  body_blob?: string;
  via_email: boolean;
  message_id: string | null;
  auto: boolean;
  created_at: string;
  attachments: AttachmentMeta[];
  delivery: Delivery | null;
  /** Threading headers of the stored mail (inbound) or of the mail we send (outbound). */
  in_reply_to: string | null;
  references: string[];
}

/** The message as API.md shows it: bodies filled in, threading headers left out. */
export type Message =
  & Omit<MessageRecord, "body_text" | "body_html" | "body_blob" | "in_reply_to" | "references">
  & { body_text: string; body_html: string | null };

export interface NewAttachment {
  /** Pre-chosen id, so HTML cid: links can be rewritten before storing; generated when absent. */
  id?: string;
  filename: string;
  content_type: string;
  content: Uint8Array;
  content_id: string | null;
  inline: boolean;
}

export interface NewMessage {
  direction: "inbound" | "outbound";
  author_name: string;
  author_email: string;
  author_user_id: string | null;
  body_text: string;
  body_html: string | null;
  via_email: boolean;
  message_id: string | null;
  auto: boolean;
  attachments?: NewAttachment[];
  delivery?: Delivery | null;
  in_reply_to?: string | null;
  references?: string[];
  /** Inbound mail: where replies go (Reply-To, else From). */
  reply_to?: { email: string; name: string } | null;
  /** Preset message id (ULID), e.g. when the caller needs it before the commit. */
  id?: string;
  created_at?: string;
}

/** Extra writes that ride in the same commit as a message. */
export interface Extras {
  /** Dedupe key of an imported mail: the commit fails as duplicate if it exists. */
  dedupe?: string;
  /** Outbox record and queue message for outbound mail. */
  outbox?: { record: unknown; queue: unknown; delayMs?: number };
  /** The user who wrote the message (reads it at once). */
  actorUserId?: string | null;
  /**
   * The caller read `dedupe` as absent just before (the poll's batched pre-check): skip the
   * read before the commit. The commit still checks the key, so a mail is never stored twice.
   */
  prechecked?: boolean;
}

export const newAttachmentId = () => newUlid();

const te = new TextEncoder();

/**
 * Bytes of one-chunk blobs that ride in the message's own commit instead of a commit each
 * before it (well under the ~800 KiB a Deno KV atomic operation carries). Saves one commit
 * (an fsync on a KV file) per small attachment, and leaves no unreferenced blob on a crash.
 */
const INLINE_BLOB_BUDGET = 256 * 1024;

/** A message ready to commit: its record, attachment records and blob chunks to stage. */
interface Prepared {
  rec: MessageRecord;
  atts: AttachmentRecord[];
  /** One-chunk blobs written by the message's commit: [blob id, bytes]. */
  chunks: [string, Uint8Array][];
}

/** Write large blobs and build the record; nothing else is committed yet. */
async function prepareMessage(
  kv: Deno.Kv,
  ticketId: number,
  m: NewMessage,
): Promise<Prepared> {
  const id = m.id ?? newUlid();
  const atts: AttachmentRecord[] = [];
  const chunks: [string, Uint8Array][] = [];
  let budget = INLINE_BLOB_BUDGET;
  const blob = async (data: Uint8Array): Promise<string> => {
    if (data.length > BLOB_CHUNK_BYTES || data.length > budget) return await writeBlob(kv, data);
    // the same layout writeBlob produces (one chunk, index 0), staged in the message commit
    budget -= data.length;
    const blobId = newUlid();
    chunks.push([blobId, data]);
    return blobId;
  };
  for (const a of m.attachments ?? []) {
    atts.push({
      id: a.id ?? newUlid(),
      filename: a.filename,
      content_type: a.content_type,
      size: a.content.length,
      inline: a.inline,
      ticket_id: ticketId,
      message_id: id,
      blob_id: await blob(a.content),
      content_id: a.content_id,
    });
  }
  const rec: MessageRecord = {
    id,
    ticket_id: ticketId,
    direction: m.direction,
    author_name: oneLine(m.author_name),
    author_email: m.author_email.toLowerCase(),
    author_user_id: m.author_user_id,
    via_email: m.via_email,
    message_id: m.message_id,
    auto: m.auto,
    created_at: m.created_at ?? new Date().toISOString(),
    attachments: atts.map(({ id, filename, content_type, size, inline }) => ({
      id,
      filename,
      content_type,
      size,
      inline,
    })),
    delivery: m.delivery ?? null,
    in_reply_to: m.in_reply_to ?? null,
    references: m.references ?? [],
  };
  if (!bodyFitsInline(m.body_text, m.body_html ?? "")) {
    rec.body_blob = await writeJsonBlob(kv, { text: m.body_text, html: m.body_html });
  } else {
    rec.body_text = m.body_text;
    rec.body_html = m.body_html;
  }
  return { rec, atts, chunks };
}

/** Whether the bodies stay within INLINE_BODY_BYTES of UTF-8 (no encoding for short ones). */
function bodyFitsInline(text: string, html: string): boolean {
  // a UTF-16 code unit is at most 3 UTF-8 bytes
  if ((text.length + html.length) * 3 <= INLINE_BODY_BYTES) return true;
  return te.encode(text).length + te.encode(html).length <= INLINE_BODY_BYTES;
}

function stageMessage(
  op: Deno.AtomicOperation,
  { rec, atts, chunks }: Prepared,
  m: NewMessage,
  extras: Extras,
  participants: Set<string> = new Set(),
): void {
  for (const [blobId, data] of chunks) op.set(keys.blobChunk(blobId, 0), data);
  op.set(keys.message(rec.ticket_id, rec.id), rec);
  op.set(keys.messageTicket(rec.id), rec.ticket_id);
  for (const a of atts) op.set(keys.attachment(a.id), a);
  if (rec.message_id) op.set(keys.threadIndex(rec.message_id.toLowerCase()), rec.ticket_id);
  if (rec.direction === "inbound" && rec.author_email) participants.add(rec.author_email);
  if (m.reply_to?.email) participants.add(m.reply_to.email.toLowerCase());
  // one write per address (a new ticket's sender is usually also the message's author)
  for (const email of participants) op.set(keys.ticketParticipant(rec.ticket_id, email), true);
  if (extras.dedupe) {
    op.check({ key: keys.dedupe(extras.dedupe), versionstamp: null });
    op.set(keys.dedupe(extras.dedupe), { ticket_id: rec.ticket_id, message_id: rec.id });
  }
  if (extras.outbox) {
    op.set(keys.outbox(rec.id), extras.outbox.record);
    op.enqueue(extras.outbox.queue, { delay: extras.outbox.delayMs ?? 0 });
  }
}

function replyTargetOf(rec: MessageRecord, m: NewMessage): ReplyTarget | null {
  if (rec.direction !== "inbound" || !rec.via_email || rec.auto) return null;
  const to = m.reply_to?.email ? m.reply_to : { email: rec.author_email, name: rec.author_name };
  return {
    email: to.email.toLowerCase(),
    name: oneLine(to.name),
    message_id: rec.message_id,
    references: rec.references,
  };
}

/** Result of a write that may find the mail already imported. */
export type WriteResult =
  | { duplicate: false; ticket: TicketRecord; message: MessageRecord }
  | { duplicate: true; ticket_id: number | null };

/**
 * The ticket counter as this process last committed it, per KV handle: the commit that sets it
 * returns the versionstamp it got, so the next `createTicket` can check against it without a
 * read. When another writer moved the counter meanwhile the check fails and the counter is
 * read again: a stale cache costs a retry, never a wrong or skipped number.
 */
const seqCache = new WeakMap<Deno.Kv, Deno.KvEntry<number>>();

async function isDuplicate(kv: Deno.Kv, dedupe?: string): Promise<WriteResult | null> {
  if (!dedupe) return null;
  const d = await kv.get<{ ticket_id: number }>(keys.dedupe(dedupe));
  return d.value ? { duplicate: true, ticket_id: d.value.ticket_id } : null;
}

export interface NewTicket {
  subject: string;
  source: "email" | "web";
  from_name: string;
  from_email: string;
  customer_id: string | null;
  status?: TicketStatus;
  first: NewMessage;
}

/** Create a ticket numbered one above the last, with its first message, in one commit. */
export async function createTicket(
  kv: Deno.Kv,
  input: NewTicket,
  extras: Extras = {},
): Promise<WriteResult> {
  if (!extras.prechecked) {
    const dup = await isDuplicate(kv, extras.dedupe);
    if (dup) return dup;
  }
  // blobs are written once, under a provisional ticket id fixed up below
  const prepared = await prepareMessage(kv, 0, input.first);
  return await withRetry<WriteResult>(async () => {
    const seq = seqCache.get(kv) ?? await kv.get<number>(keys.ticketSeq());
    seqCache.delete(kv); // kept only when this attempt commits
    const id = (seq.value ?? 0) + 1;
    const now = prepared.rec.created_at;
    const rec = { ...prepared.rec, ticket_id: id };
    const atts = prepared.atts.map((a) => ({ ...a, ticket_id: id }));
    const ticket: TicketRecord = {
      id,
      subject: oneLine(input.subject) || "(no subject)",
      status: input.status ?? "new",
      customer_id: input.customer_id,
      from_name: oneLine(input.from_name),
      from_email: input.from_email.toLowerCase(),
      source: input.source,
      created_at: now,
      updated_at: now,
      last_message_at: now,
      message_count: 1,
      activity_ms: Date.parse(now),
      reply_target: replyTargetOf(rec, input.first),
    };
    const op = kv.atomic()
      .check(seq)
      .check({ key: keys.ticket(id), versionstamp: null })
      .set(keys.ticketSeq(), id);
    const participants = new Set(ticket.from_email ? [ticket.from_email] : []);
    stageMessage(op, { rec, atts, chunks: prepared.chunks }, input.first, extras, participants);
    stageTicket(op, null, ticket, {
      version: { key: ["ticket_readers_ver", id], value: null, versionstamp: null },
      userIds: [],
    }, {
      activity: true,
      actorUserId: extras.actorUserId,
    });
    const res = await op.commit();
    if (res.ok) {
      seqCache.set(kv, { key: keys.ticketSeq(), value: id, versionstamp: res.versionstamp });
      return { ok: true, value: { duplicate: false, ticket, message: rec } };
    }
    const d = await isDuplicate(kv, extras.dedupe);
    return d ? { ok: true, value: d } : { ok: false };
  });
}

export interface AppendOptions {
  /** A reply to a resolved/closed ticket reopens it (human inbound mail). */
  reopen?: boolean;
  /** An agent's reply moves a `new` ticket to `open`. */
  newToOpen?: boolean;
  /**
   * The ticket's entry and its readers' version entry as the caller just read them (threading
   * reads both): saves those reads on the first attempt. The commit checks both versionstamps,
   * so stale entries only cost a retry.
   */
  current?: {
    ticket: Deno.KvEntryMaybe<TicketRecord>;
    readersVersion?: Deno.KvEntryMaybe<unknown>;
  };
}

/** Add a message to an existing ticket in one commit. */
export async function appendMessage(
  kv: Deno.Kv,
  ticketId: number,
  m: NewMessage,
  opts: AppendOptions = {},
  extras: Extras = {},
): Promise<WriteResult> {
  if (!extras.prechecked) {
    const dup = await isDuplicate(kv, extras.dedupe);
    if (dup) return dup;
  }
  const prepared = await prepareMessage(kv, ticketId, m);
  const rec = prepared.rec;
  let given = opts.current?.ticket.key[1] === ticketId ? opts.current : undefined;
  return await withRetry<WriteResult>(async () => {
    const [cur, readers] = await Promise.all([
      given?.ticket ?? kv.get<TicketRecord>(keys.ticket(ticketId)),
      readReaders(kv, ticketId, given?.readersVersion),
    ]);
    given = undefined; // a retry reads afresh
    if (!cur.value) throw new HttpError(404, `Ticket #${ticketId} does not exist`, "not_found");
    const before = cur.value;
    const after: TicketRecord = {
      ...before,
      updated_at: rec.created_at,
      last_message_at: rec.created_at,
      activity_ms: Math.max(Date.parse(rec.created_at), before.activity_ms + 1),
      message_count: before.message_count + 1,
    };
    if (opts.reopen && (before.status === "resolved" || before.status === "closed")) {
      after.status = "open";
    }
    if (opts.newToOpen && before.status === "new") after.status = "open";
    const target = replyTargetOf(rec, m);
    if (target) after.reply_target = target;
    const op = kv.atomic().check(cur);
    stageMessage(op, prepared, m, extras);
    stageTicket(op, before, after, readers, { activity: true, actorUserId: extras.actorUserId });
    const res = await op.commit();
    if (res.ok) return { ok: true, value: { duplicate: false, ticket: after, message: rec } };
    const d = await isDuplicate(kv, extras.dedupe);
    return d ? { ok: true, value: d } : { ok: false };
  });
}

/** Fill in bodies kept in a blob. */
export async function publicMessage(kv: Deno.Kv, rec: MessageRecord): Promise<Message> {
  let text = rec.body_text ?? "", html = rec.body_html ?? null;
  if (rec.body_blob) {
    const b = await readJsonBlob<{ text: string; html: string | null }>(kv, rec.body_blob);
    text = b?.text ?? "";
    html = b?.html ?? null;
  }
  return {
    id: rec.id,
    ticket_id: rec.ticket_id,
    direction: rec.direction,
    author_name: rec.author_name,
    author_email: rec.author_email,
    author_user_id: rec.author_user_id,
    body_text: text,
    body_html: html,
    via_email: rec.via_email,
    message_id: rec.message_id,
    auto: rec.auto,
    created_at: rec.created_at,
    attachments: rec.attachments,
    delivery: rec.delivery,
  };
}

/** All messages of a ticket, oldest first. */
export async function listMessageRecords(kv: Deno.Kv, ticketId: number): Promise<MessageRecord[]> {
  const out: MessageRecord[] = [];
  for await (const e of kv.list<MessageRecord>({ prefix: keys.messages(ticketId) })) {
    out.push(e.value);
  }
  return out;
}

export async function listMessages(kv: Deno.Kv, ticketId: number): Promise<Message[]> {
  return await Promise.all(
    (await listMessageRecords(kv, ticketId)).map((r) => publicMessage(kv, r)),
  );
}

export async function getMessageRecord(
  kv: Deno.Kv,
  messageId: string,
): Promise<MessageRecord | null> {
  const t = await kv.get<number>(keys.messageTicket(messageId));
  if (t.value === null) return null;
  return (await kv.get<MessageRecord>(keys.message(t.value, messageId))).value;
}

/**
 * Change a message's delivery state (outbound worker), bumping the ticket sentinel in the same
 * commit. `update` gets the current record and returns the new delivery, or null to leave it.
 */
export async function updateDelivery(
  kv: Deno.Kv,
  ticketId: number,
  messageId: string,
  update: (cur: MessageRecord) => Delivery | null,
  extra?: (op: Deno.AtomicOperation) => void,
): Promise<MessageRecord | null> {
  return await withRetry(async () => {
    const cur = await kv.get<MessageRecord>(keys.message(ticketId, messageId));
    if (!cur.value) return { ok: true, value: null };
    const d = update(cur.value);
    if (!d) return { ok: true, value: cur.value };
    const next = { ...cur.value, delivery: d };
    const op = kv.atomic().check(cur).set(cur.key, next).sum(keys.liveTicket(ticketId), 1n);
    extra?.(op);
    return await commit(op, next);
  });
}

export async function getAttachment(kv: Deno.Kv, id: string): Promise<AttachmentRecord | null> {
  return (await kv.get<AttachmentRecord>(keys.attachment(id))).value;
}
