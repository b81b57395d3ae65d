import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { appendMessage, createTicket, getAttachment, type NewMessage } from "./messages.ts";
import { markRead } from "./inbox.ts";
import { readBlob } from "./blobs.ts";
import { keys } from "./keys.ts";
import { readersVersionKey, type TicketRecord } from "./tickets.ts";

function msg(over: Partial<NewMessage> = {}): NewMessage {
  return {
    direction: "inbound",
    author_name: "Cara",
    author_email: "cara@customer.example",
    author_user_id: null,
    body_text: "Hello",
    body_html: null,
    via_email: true,
    message_id: null,
    auto: false,
    ...over,
  };
}

function ticket(subject: string, first = msg()) {
  return {
    subject,
    source: "email" as const,
    from_name: "Cara",
    from_email: "cara@customer.example",
    customer_id: null,
    first,
  };
}

Deno.test("[messages] ticket numbers stay consecutive when another process creates tickets in between", async () => {
  const dir = await Deno.makeTempDir();
  // two handles on one file stand for two processes: each keeps its own view of the counter
  const a = await Deno.openKv(`${dir}/kv.sqlite`);
  const b = await Deno.openKv(`${dir}/kv.sqlite`);
  try {
    const ids: number[] = [];
    for (
      const [kv, s] of [[a, "a1"], [a, "a2"], [b, "b1"], [a, "a3"], [b, "b2"], [a, "a4"]] as const
    ) {
      const r = await createTicket(kv, ticket(s));
      ok(!r.duplicate);
      ids.push(r.ticket.id);
    }
    deepStrictEqual(ids, [1, 2, 3, 4, 5, 6]);
    strictEqual((await a.get(keys.ticketSeq())).value, 6);
  } finally {
    a.close();
    b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[messages] a mail pre-checked as new is still refused by the commit when it was stored meanwhile", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const first = await createTicket(kv, ticket("one"), { dedupe: "k1" });
    ok(!first.duplicate);
    const again = await createTicket(kv, ticket("one again"), { dedupe: "k1", prechecked: true });
    deepStrictEqual(again, { duplicate: true, ticket_id: first.ticket.id });
    const reply = await appendMessage(kv, first.ticket.id, msg(), {}, {
      dedupe: "k1",
      prechecked: true,
    });
    deepStrictEqual(reply, { duplicate: true, ticket_id: first.ticket.id });
    strictEqual((await kv.get(keys.ticketSeq())).value, 1, "no number was used up");
    strictEqual((await kv.get<TicketRecord>(keys.ticket(1))).value?.message_count, 1);
  } finally {
    kv.close();
  }
});

Deno.test("[messages] small attachments ride in the message commit, large ones are chunked before it", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const small = new Uint8Array(1000).fill(7);
    const large = new Uint8Array(150_000).map((_, i) => i % 251);
    const att = (name: string, content: Uint8Array) => ({
      filename: name,
      content_type: "application/octet-stream",
      content,
      content_id: null,
      inline: false,
    });
    const r = await createTicket(
      kv,
      ticket("files", msg({ attachments: [att("s.bin", small), att("l.bin", large)] })),
    );
    ok(!r.duplicate);
    const [s, l] = r.message.attachments;
    for (const [meta, bytes] of [[s, small], [l, large]] as const) {
      const rec = await getAttachment(kv, meta.id);
      ok(rec, `attachment record ${meta.filename}`);
      strictEqual(rec.size, bytes.length);
      deepStrictEqual(await readBlob(kv, rec.blob_id), bytes);
    }
  } finally {
    kv.close();
  }
});

Deno.test("[messages] an append with a stale ticket or readers entry re-reads and clears every read marker", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const r = await createTicket(kv, ticket("t"));
    ok(!r.duplicate);
    const id = r.ticket.id;
    const [t, ver] = await kv.getMany<[TicketRecord, unknown]>([
      keys.ticket(id),
      readersVersionKey(id),
    ]);
    strictEqual(ver.versionstamp, null, "a new ticket has no readers version yet");
    // someone reads the ticket after the entries above were taken
    ok(await markRead(kv, id, "u1"));
    const res = await appendMessage(kv, id, msg({ body_text: "more" }), {
      current: { ticket: t, readersVersion: ver },
    });
    ok(!res.duplicate);
    strictEqual(res.ticket.message_count, 2);
    strictEqual((await kv.get(keys.ticketReader(id, "u1"))).versionstamp, null, "u1 unread");
    // and a fresh entry works without a retry
    const [t2, ver2] = await kv.getMany<[TicketRecord, unknown]>([
      keys.ticket(id),
      readersVersionKey(id),
    ]);
    const res2 = await appendMessage(kv, id, msg({ body_text: "again" }), {
      current: { ticket: t2, readersVersion: ver2 },
    });
    ok(!res2.duplicate);
    strictEqual((await kv.get<TicketRecord>(keys.ticket(id))).value?.message_count, 3);
  } finally {
    kv.close();
  }
});
