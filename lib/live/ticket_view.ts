/**
 * What the hub knows about one watched ticket, to turn a bump of its sentinel into events: which
 * messages it has passed on, which outbound messages may still change delivery state, and the
 * fields whose change is a `ticket_update`.
 */
import { keys } from "../db/keys.ts";
import { getMany } from "../db/kv.ts";
import type { MessageRecord } from "../db/messages.ts";
import type { TicketRecord } from "../db/tickets.ts";
import { MESSAGE_SCAN_SLACK } from "./constants.ts";

export interface TicketChanges {
  /** New messages (oldest first), then messages whose delivery state changed. */
  messages: MessageRecord[];
  /** The ticket, when its status, customer or subject changed. */
  updated: TicketRecord | null;
}

const deliveryPrint = (m: MessageRecord) => JSON.stringify(m.delivery);
/** "sent" is final; "failed" may be retried by an admin, so it stays watched. */
const mayChange = (m: MessageRecord) => m.delivery !== null && m.delivery.status !== "sent";

export class TicketView {
  record: TicketRecord | null = null;
  #known = new Set<string>();
  #pending = new Map<string, string>();

  private constructor(readonly id: number) {}

  /** The starting point: the ticket first, then its messages (so the count never runs ahead). */
  static async load(kv: Deno.Kv, id: number): Promise<TicketView> {
    const v = new TicketView(id);
    v.record = (await kv.get<TicketRecord>(keys.ticket(id))).value;
    for await (const e of kv.list<MessageRecord>({ prefix: keys.messages(id) })) {
      v.#remember(e.value);
    }
    return v;
  }

  #remember(m: MessageRecord) {
    this.#known.add(m.id);
    if (mayChange(m)) this.#pending.set(m.id, deliveryPrint(m));
    else this.#pending.delete(m.id);
  }

  /** Re-read after a sentinel bump and say what changed since the last call. */
  async refresh(kv: Deno.Kv): Promise<TicketChanges> {
    const out: TicketChanges = { messages: [], updated: null };
    const before = this.record;
    const rec = (await kv.get<TicketRecord>(keys.ticket(this.id))).value;
    if (rec && (!before || rec.message_count !== before.message_count)) {
      const delta = Math.max(0, rec.message_count - (before?.message_count ?? 0));
      const fresh: MessageRecord[] = [];
      const it = kv.list<MessageRecord>({ prefix: keys.messages(this.id) }, {
        reverse: true,
        limit: delta + MESSAGE_SCAN_SLACK,
      });
      for await (const e of it) if (!this.#known.has(e.value.id)) fresh.push(e.value);
      fresh.reverse();
      for (const m of fresh) this.#remember(m);
      out.messages.push(...fresh);
    }
    const freshIds = new Set(out.messages.map((m) => m.id));
    const watch = [...this.#pending.keys()].filter((id) => !freshIds.has(id));
    if (watch.length) {
      const entries = await getMany<MessageRecord>(
        kv,
        watch.map((mid) => keys.message(this.id, mid)),
      );
      for (const e of entries) {
        const m = e.value;
        if (!m) continue;
        if (this.#pending.get(m.id) !== deliveryPrint(m)) out.messages.push(m);
        this.#remember(m);
      }
    }
    if (
      rec && before &&
      (rec.status !== before.status || rec.customer_id !== before.customer_id ||
        rec.subject !== before.subject)
    ) out.updated = rec;
    if (rec) this.record = rec;
    return out;
  }

  /** Outbound messages still watched for delivery changes (tests). */
  get pendingDeliveries(): number {
    return this.#pending.size;
  }
}
