/**
 * The overlapped poll pipeline (lib/mail/poll.ts): the next batch is downloaded, parsed and
 * its thread ids read ahead while earlier mail is stored. What is read ahead must never make
 * a reply miss a ticket that the same poll created.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { appFor, mail, newId, pollNow, testBox } from "./imap_helpers.ts";
import { keys } from "../lib/db/keys.ts";
import type { TicketRecord } from "../lib/db/tickets.ts";

async function allTickets(kv: Deno.Kv): Promise<TicketRecord[]> {
  const out: TicketRecord[] = [];
  for await (const e of kv.list<TicketRecord>({ prefix: keys.tickets() })) out.push(e.value);
  return out;
}

for (const batchMessages of [50, 1]) {
  Deno.test(`[poll pipeline] replies read ahead before their original is stored still thread onto it (batches of ${batchMessages})`, async () => {
    const box = await testBox();
    const t = await appFor(box);
    try {
      const original = newId();
      await box.append(mail({ messageId: original, subject: "Original" }));
      await box.append(mail({ subject: "Re: Original", inReplyTo: original }));
      await box.append(mail({ subject: "Re: Original", references: [newId(), original] }));
      await box.append(mail({ subject: "Something else" }));
      let first = true;
      const r = await pollNow(t, {
        batchMessages,
        hooks: {
          // hold the first store back: meanwhile the replies are downloaded, parsed and their
          // thread ids read, and the original is not in the thread index yet
          async beforeStore() {
            if (!first) return;
            first = false;
            await new Promise((res) => setTimeout(res, 300));
          },
        },
      });
      deepStrictEqual([r.ok, r.imported, r.threaded, r.skipped, r.failed], [true, 4, 2, 0, 0]);
      const tickets = await allTickets(t.kv);
      deepStrictEqual(tickets.map((x) => [x.id, x.subject, x.message_count]), [
        [1, "Original", 3],
        [2, "Something else", 1],
      ]);
      strictEqual(await box.count(), 0);
      strictEqual(await box.count(box.processed), 4);
    } finally {
      await t.close();
      await box.close();
    }
  });
}

Deno.test("[poll pipeline] already stored and new mail mixed in small batches are each counted and moved once", async () => {
  const box = await testBox();
  const t = await appFor(box);
  try {
    const seen = newId();
    await box.append(mail({ messageId: seen, subject: "Seen before" }));
    deepStrictEqual((await pollNow(t)).imported, 1);
    // the same mail again (as if the MOVE had been lost), around new mail
    await box.append(mail({ subject: "New 1" }));
    await box.append(mail({ messageId: seen, subject: "Seen before" }));
    await box.append(mail({ subject: "New 2" }));
    const moves: number[][] = [];
    const r = await pollNow(t, {
      batchMessages: 2,
      hooks: { beforeMove: (uids: number[]) => void moves.push(uids) },
    });
    deepStrictEqual([r.ok, r.imported, r.skipped, r.failed], [true, 2, 1, 0]);
    strictEqual(moves.flat().length, 3);
    strictEqual(new Set(moves.flat()).size, 3);
    deepStrictEqual((await allTickets(t.kv)).map((x) => x.subject), [
      "Seen before",
      "New 1",
      "New 2",
    ]);
    strictEqual(await box.count(), 0);
  } finally {
    await t.close();
    await box.close();
  }
});
