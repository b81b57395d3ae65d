/**
 * The Inbox: listing by last activity, the badge counts, read markers, and the ticket changes
 * that move tickets in and out of it (status, subject, customer).
 */
import { HttpError } from "../fw/mod.ts";
import { keys } from "./keys.ts";
import { commit, countValue, withRetry } from "./kv.ts";
import { INBOX_LIMIT_DEFAULT } from "./limits.ts";
import {
  activeInInbox,
  getTickets,
  oneLine,
  publicTickets,
  readersVersionKey,
  readReaders,
  stageTicket,
  type Ticket,
  type TicketRecord,
  type TicketStatus,
} from "./tickets.ts";

export interface InboxCounts {
  unread: number;
  total: number;
}

/** Badge counts for a user: two reads, whatever the number of tickets. */
export async function inboxCounts(kv: Deno.Kv, userId: string): Promise<InboxCounts> {
  const [total, read] = await kv.getMany([
    keys.inboxActiveCount(),
    keys.userReadActiveCount(userId),
  ], {
    consistency: "strong",
  });
  const t = countValue(total), r = countValue(read);
  return { unread: Math.max(0, t - r), total: t };
}

export interface InboxPage extends InboxCounts {
  tickets: Ticket[];
  cursor: string | null;
}

/** A page of the Inbox, newest activity first. */
export async function listInbox(
  kv: Deno.Kv,
  userId: string,
  opts: { limit?: number; cursor?: string } = {},
): Promise<InboxPage> {
  const limit = opts.limit ?? INBOX_LIMIT_DEFAULT;
  const it = kv.list<number>({ prefix: keys.inbox() }, {
    limit,
    reverse: true,
    cursor: opts.cursor || undefined,
  });
  const ids: number[] = [];
  try {
    for await (const e of it) ids.push(e.value);
  } catch (e) {
    if (opts.cursor) throw new HttpError(400, "cursor is not valid", "bad_cursor");
    throw e;
  }
  const tickets = await publicTickets(kv, userId, await getTickets(kv, ids));
  const counts = await inboxCounts(kv, userId);
  return { tickets, ...counts, cursor: ids.length === limit ? it.cursor : null };
}

/** Mark a ticket read for one user (opening it). Returns whether anything changed. */
export async function markRead(kv: Deno.Kv, ticketId: number, userId: string): Promise<boolean> {
  return await withRetry(async () => {
    const [t, reader, ver] = await kv.getMany<[TicketRecord, true, string]>([
      keys.ticket(ticketId),
      keys.ticketReader(ticketId, userId),
      readersVersionKey(ticketId),
    ]);
    if (!t.value || reader.versionstamp !== null) return { ok: true, value: false };
    const op = kv.atomic().check(t).check(ver)
      .set(readersVersionKey(ticketId), crypto.randomUUID())
      .set(keys.ticketReader(ticketId, userId), true);
    if (activeInInbox(t.value)) {
      op.sum(keys.userReadActiveCount(userId), 1n).sum(keys.liveInbox(), 1n);
    }
    return await commit(op, true);
  });
}

export interface TicketPatch {
  status?: TicketStatus;
  subject?: string;
  customer_id?: string;
}

/** Change status, subject or customer of a ticket, with every index in one commit. */
export async function patchTicket(
  kv: Deno.Kv,
  ticketId: number,
  patch: TicketPatch,
): Promise<TicketRecord> {
  return await withRetry(async () => {
    const cur = await kv.get<TicketRecord>(keys.ticket(ticketId));
    if (!cur.value) throw new HttpError(404, `Ticket #${ticketId} does not exist`, "not_found");
    const op = kv.atomic().check(cur);
    if (patch.customer_id !== undefined) {
      const c = await kv.get(keys.customer(patch.customer_id));
      if (!c.value) {
        throw new HttpError(
          422,
          `customer_id: customer ${patch.customer_id} does not exist`,
          "invalid_field",
        );
      }
      op.check(c);
    }
    const before = cur.value;
    const after: TicketRecord = { ...before, updated_at: new Date().toISOString() };
    if (patch.status !== undefined) after.status = patch.status;
    if (patch.subject !== undefined) after.subject = oneLine(patch.subject);
    if (patch.customer_id !== undefined) after.customer_id = patch.customer_id;
    const readers = await readReaders(kv, ticketId);
    stageTicket(op, before, after, readers, { activity: false });
    return await commit(op, after);
  });
}
