/**
 * Reading the Inbox change feed that `stageTicket` writes in the same commit as each change
 * (`["live","inbox_changes",<ULID>] → {ticket_id, reason}`, expiring). ULIDs are made just before
 * the commit, so keys do not arrive in strict order across writers: the reader re-lists a
 * look-back window and remembers which keys it has already passed on.
 */
import { decodeTime, encodeTime } from "ulid";
import { keys } from "../db/keys.ts";
import type { TicketReason } from "./protocol.ts";

export interface InboxChange {
  key: string;
  ticket_id: number;
  reason: TicketReason;
}

/** The smallest ULID of a millisecond: a list bound. */
function ulidFloor(ms: number): string {
  return encodeTime(Math.max(0, Math.floor(ms)), 10) + "0".repeat(16);
}

/** Feed entries made at or after `sinceMs`, oldest first. */
export async function changesSince(kv: Deno.Kv, sinceMs: number): Promise<InboxChange[]> {
  const out: InboxChange[] = [];
  const prefix = keys.liveInboxChanges();
  const it = kv.list<{ ticket_id: number; reason: TicketReason }>({
    prefix,
    start: [...prefix, ulidFloor(sinceMs)],
  }, { consistency: "strong" });
  for await (const e of it) {
    const key = e.key[e.key.length - 1];
    if (typeof key !== "string" || !e.value) continue;
    out.push({ key, ticket_id: e.value.ticket_id, reason: e.value.reason });
  }
  return out;
}

/** Collapse repeated (ticket, reason) pairs, keeping the first occurrence's order. */
export function distinctChanges(changes: InboxChange[]): InboxChange[] {
  const seen = new Set<string>();
  return changes.filter((c) => {
    const k = `${c.ticket_id}:${c.reason}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A cursor over the feed for one process: each entry is returned by `poll` once. */
export class InboxFeed {
  #seen = new Map<string, number>();

  constructor(private kv: Deno.Kv, private lookbackMs: number) {}

  /** Mark everything already in the window as passed on (the starting point). */
  async prime(): Promise<void> {
    for (const c of await changesSince(this.kv, Date.now() - this.lookbackMs)) {
      this.#seen.set(c.key, decodeTime(c.key));
    }
  }

  /** Entries not returned before. */
  async poll(): Promise<InboxChange[]> {
    const floor = Date.now() - this.lookbackMs;
    const fresh = (await changesSince(this.kv, floor)).filter((c) => !this.#seen.has(c.key));
    for (const c of fresh) this.#seen.set(c.key, decodeTime(c.key));
    for (const [k, t] of this.#seen) if (t < floor) this.#seen.delete(k);
    return fresh;
  }

  get size(): number {
    return this.#seen.size;
  }
}
