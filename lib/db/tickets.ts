/**
 * Tickets and their denormalized indexes. Every change to a ticket goes through `stageTicket`,
 * which writes the ticket, its inbox and customer index entries, the inbox counters, the read
 * markers and the live sentinels in the caller's one atomic operation.
 */
import { ulid } from "ulid";
import { HttpError } from "../fw/mod.ts";
import { keys } from "./keys.ts";
import { addCount, bumpInbox, bumpTicket, getMany } from "./kv.ts";
import { LIVE_FEED_TTL_MS } from "./limits.ts";

// ulid's default generator calls crypto.getRandomValues once per character (16 calls per id,
// a few ids per stored mail); the same bytes drawn from a refilled pool cost a fraction.
const randomPool = new Uint8Array(4096);
let randomAt = randomPool.length;
function pooledRandom(): number {
  if (randomAt === randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomAt = 0;
  }
  return randomPool[randomAt++] / 256;
}

/** A new ULID (time-sorted, 80 random bits from the platform's CSPRNG). */
export function newUlid(): string {
  return ulid(undefined, pooledRandom);
}

export type TicketStatus = "new" | "open" | "pending" | "resolved" | "closed";
export const TICKET_STATUSES: readonly TicketStatus[] = [
  "new",
  "open",
  "pending",
  "resolved",
  "closed",
];

/** Where replies to an email ticket go, and what they thread onto. */
export interface ReplyTarget {
  email: string;
  name: string;
  message_id: string | null;
  references: string[];
}

export interface TicketRecord {
  id: number;
  subject: string;
  status: TicketStatus;
  customer_id: string | null;
  from_name: string;
  from_email: string;
  source: "email" | "web";
  created_at: string;
  updated_at: string;
  last_message_at: string;
  message_count: number;
  /** Sort key of the inbox index (ms of last activity); kept to delete the old index entry. */
  activity_ms: number;
  /** Latest inbound mail of a human, for outbound replies (email tickets). */
  reply_target: ReplyTarget | null;
}

/** The ticket as API.md shows it: the record without its internal fields, plus `unread`. */
export type Ticket = Omit<TicketRecord, "activity_ms" | "reply_target"> & { unread: boolean };

export function publicTicket(t: TicketRecord, unread: boolean): Ticket {
  return {
    id: t.id,
    subject: t.subject,
    status: t.status,
    customer_id: t.customer_id,
    from_name: t.from_name,
    from_email: t.from_email,
    source: t.source,
    created_at: t.created_at,
    updated_at: t.updated_at,
    last_message_at: t.last_message_at,
    message_count: t.message_count,
    unread,
  };
}

/** A subject is one line: CR and LF become spaces (API.md). */
export function oneLine(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/[\r\n]+/g, " ").replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "")
    .trim();
}

/** In the Inbox: no customer and not closed. */
export function inInbox(t: TicketRecord | null): boolean {
  return !!t && t.customer_id === null && t.status !== "closed";
}

/** Counted in the Inbox badge: in the Inbox and not resolved. */
export function activeInInbox(t: TicketRecord | null): boolean {
  return inInbox(t) && t!.status !== "resolved";
}

/** Key that serializes read-marker changes against ticket activity. */
export const readersVersionKey = (id: number) => ["ticket_readers_ver", id] as const;

/** What `stageTicket` must know about a ticket's readers; read with `readReaders`. */
export interface ReadersSnapshot {
  version: Deno.KvEntryMaybe<unknown>;
  userIds: string[];
}

export async function readReaders(
  kv: Deno.Kv,
  ticketId: number,
  /** The version entry when the caller read it already (before calling: the order matters). */
  versionRead?: Deno.KvEntryMaybe<unknown>,
): Promise<ReadersSnapshot> {
  // the version first, then the list: a reader added in between changes the version, and the
  // commit's check on it fails
  const version = versionRead ?? await kv.get(readersVersionKey(ticketId));
  const userIds: string[] = [];
  for await (const e of kv.list({ prefix: keys.ticketReaders(ticketId) })) {
    userIds.push(e.key[2] as string);
  }
  return { version, userIds };
}

export interface StageOptions {
  /** New activity (a message): every reader's mark is cleared, except the actor's. */
  activity: boolean;
  /** The user who caused the change; after activity they count as having read it. */
  actorUserId?: string | null;
}

/**
 * Stage the write of `after` (replacing `before`, or creating when null) into `op`, with every
 * index, counter, read marker and sentinel it touches. The caller has checked `before`'s entry.
 */
export function stageTicket(
  op: Deno.AtomicOperation,
  before: TicketRecord | null,
  after: TicketRecord,
  readers: ReadersSnapshot,
  opts: StageOptions,
): void {
  const id = after.id;
  op.set(keys.ticket(id), after);
  if (before !== null) {
    op.check(readers.version as Deno.AtomicCheck);
    op.set(readersVersionKey(id), crypto.randomUUID());
  }
  // A new ticket needs neither: its commit checks that the ticket is absent, nobody can mark
  // an absent ticket read, and an absent version key is a version like any other (every later
  // change of the readers checks it and sets it).

  if (inInbox(before)) op.delete(keys.inboxEntry(before!.activity_ms, id));
  if (inInbox(after)) op.set(keys.inboxEntry(after.activity_ms, id), id);

  const wasActive = activeInInbox(before), isActive = activeInInbox(after);
  addCount(op, keys.inboxActiveCount(), Number(isActive) - Number(wasActive));

  const actor = opts.actorUserId ?? null;
  if (opts.activity) {
    for (const u of readers.userIds) {
      if (u === actor) continue;
      op.delete(keys.ticketReader(id, u));
      if (wasActive) addCount(op, keys.userReadActiveCount(u), -1);
    }
    if (actor) {
      const wasReader = readers.userIds.includes(actor);
      op.set(keys.ticketReader(id, actor), true);
      addCount(
        op,
        keys.userReadActiveCount(actor),
        Number(isActive) - Number(wasReader && wasActive),
      );
    }
  } else if (wasActive !== isActive) {
    for (const u of readers.userIds) {
      addCount(op, keys.userReadActiveCount(u), Number(isActive) - Number(wasActive));
    }
  }

  if (before?.customer_id !== after.customer_id) {
    if (before?.customer_id) {
      op.delete(keys.customerTicket(before.customer_id, id));
      addCount(op, keys.customerTicketCount(before.customer_id), -1);
    }
    if (after.customer_id) {
      op.set(keys.customerTicket(after.customer_id, id), id);
      addCount(op, keys.customerTicketCount(after.customer_id), 1);
    }
  }

  bumpTicket(op, id);
  if (inInbox(before) || inInbox(after)) {
    bumpInbox(op);
    // the live hub reads which tickets changed from this feed (lib/live/feed.ts)
    const reason = before === null ? "created" : opts.activity ? "message" : "updated";
    op.set(keys.liveInboxChange(newUlid()), { ticket_id: id, reason }, {
      expireIn: LIVE_FEED_TTL_MS,
    });
  }
}

export async function getTicketEntry(kv: Deno.Kv, id: number) {
  return await kv.get<TicketRecord>(keys.ticket(id));
}

/** Read a ticket or throw 404. */
export async function requireTicket(kv: Deno.Kv, id: number): Promise<TicketRecord> {
  const t = (await getTicketEntry(kv, id)).value;
  if (!t) throw new HttpError(404, `Ticket #${id} does not exist`, "not_found");
  return t;
}

/** Which of these tickets the user has not read since their last activity. */
export async function unreadFlags(kv: Deno.Kv, userId: string, ids: number[]): Promise<boolean[]> {
  const entries = await getMany(kv, ids.map((id) => keys.ticketReader(id, userId)));
  return entries.map((e) => e.versionstamp === null);
}

/** Tickets by id, in the given order, skipping missing ones. */
export async function getTickets(kv: Deno.Kv, ids: number[]): Promise<TicketRecord[]> {
  const entries = await getMany<TicketRecord>(kv, ids.map((id) => keys.ticket(id)));
  return entries.filter((e) => e.value).map((e) => e.value!);
}

/** Tickets as the API shows them to `userId`. */
export async function publicTickets(
  kv: Deno.Kv,
  userId: string,
  ts: TicketRecord[],
): Promise<Ticket[]> {
  const flags = await unreadFlags(kv, userId, ts.map((t) => t.id));
  return ts.map((t, i) => publicTicket(t, flags[i]));
}
