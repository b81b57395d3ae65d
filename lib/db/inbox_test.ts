import { deepStrictEqual } from "node:assert/strict";
import { createTicket } from "./messages.ts";
import { appendMessage } from "./messages.ts";
import { inboxCounts, listInbox, markRead, patchTicket } from "./inbox.ts";
import { activeInInbox, TICKET_STATUSES, type TicketRecord, unreadFlags } from "./tickets.ts";
import { createCustomer } from "./customers.ts";
import { keys } from "./keys.ts";

function msg(author: string, userId: string | null = null) {
  return {
    direction: "inbound" as const,
    author_name: author,
    author_email: `${author}@example.test`,
    author_user_id: userId,
    body_text: "x",
    body_html: null,
    via_email: false,
    message_id: null,
    auto: false,
  };
}

/** A seeded pseudo-random generator, so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

Deno.test("[inbox] counters and read markers match a full recount after random operations", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const users = ["u1", "u2", "u3"];
    const customer = await createCustomer(kv, "ACME", null);
    const rand = rng(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
    let n = 0;
    for (let step = 0; step < 400; step++) {
      const r = rand();
      if (r < 0.25 || n === 0) {
        await createTicket(kv, {
          subject: "s",
          source: "web",
          from_name: "a",
          from_email: "a@example.test",
          customer_id: null,
          first: msg("a"),
        }, { actorUserId: rand() < 0.3 ? pick(users) : null });
        n++;
      } else if (r < 0.5) {
        await markRead(kv, 1 + Math.floor(rand() * n), pick(users));
      } else if (r < 0.7) {
        const actor = rand() < 0.5 ? pick(users) : null;
        await appendMessage(kv, 1 + Math.floor(rand() * n), msg("b", actor), {
          reopen: rand() < 0.5,
        }, {
          actorUserId: actor,
        });
      } else if (r < 0.9) {
        await patchTicket(kv, 1 + Math.floor(rand() * n), { status: pick(TICKET_STATUSES) });
      } else {
        await patchTicket(kv, 1 + Math.floor(rand() * n), { customer_id: customer.id });
      }
    }
    // recount from the tickets themselves
    const all: TicketRecord[] = [];
    for await (const e of kv.list<TicketRecord>({ prefix: keys.tickets() })) all.push(e.value);
    const active = all.filter(activeInInbox);
    for (const u of users) {
      const flags = await unreadFlags(kv, u, active.map((t) => t.id));
      const want = { unread: flags.filter(Boolean).length, total: active.length };
      deepStrictEqual(await inboxCounts(kv, u), want, `counts of ${u}`);
    }
    const listed = (await listInbox(kv, "u1", { limit: 200 })).tickets.map((t) => t.id).sort((
      a,
      b,
    ) => a - b);
    const inInbox = all.filter((t) => t.customer_id === null && t.status !== "closed").map((t) =>
      t.id
    )
      .sort((a, b) => a - b);
    deepStrictEqual(listed, inInbox);
  } finally {
    kv.close();
  }
});
