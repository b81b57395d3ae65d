import assert from "node:assert/strict";
import { keys } from "../db/keys.ts";
import { type ChangedParts, WatchGroups } from "./watch_groups.ts";
import { changesSince, InboxFeed } from "./feed.ts";
import { encodeTime } from "ulid";

/** Collects change calls and lets a test wait for one. */
function recorder() {
  const calls: [number, ChangedParts][] = [];
  const waiters: [(c: [number, ChangedParts]) => boolean, () => void][] = [];
  return {
    calls,
    on: (id: number, parts: ChangedParts) => {
      calls.push([id, parts]);
      for (const w of [...waiters]) {
        if (w[0]([id, parts])) {
          waiters.splice(waiters.indexOf(w), 1);
          w[1]();
        }
      }
      return Promise.resolve();
    },
    until: (pred: (c: [number, ChangedParts]) => boolean) =>
      calls.some(pred) ? Promise.resolve() : new Promise<void>((r) => waiters.push([pred, r])),
  };
}

Deno.test("[live watch groups] 23 tickets share five watches and each bump is reported", async () => {
  const kv = await Deno.openKv(":memory:");
  const rec = recorder();
  const groups = new WatchGroups(kv, rec.on);
  const ids = Array.from({ length: 23 }, (_, i) => i + 1);
  await Promise.all(ids.map((id) => groups.add(id)));
  assert.equal(groups.tickets, 23);
  assert.equal(groups.watches, 5); // two keys per ticket, ten keys per watch
  rec.calls.length = 0;
  for (const id of ids) await kv.atomic().sum(keys.liveTicket(id), 1n).commit();
  await kv.atomic().sum(keys.livePresence(17), 1n).commit();
  for (const id of ids) await rec.until(([i, p]) => i === id && p.ticket);
  await rec.until(([i, p]) => i === 17 && p.presence);
  // removing tickets re-creates the watches; a bump while the watch is swapped is not lost
  for (const id of ids.slice(0, 12)) groups.remove(id);
  const seen = rec.calls.length;
  await kv.atomic().sum(keys.liveTicket(13), 1n).commit(); // its group is being re-created
  await rec.until(([i, p]) => i === 13 && p.ticket && rec.calls.length > seen);
  await groups.settle();
  assert.equal(groups.tickets, 11);
  assert.equal(groups.watches, 3);
  await groups.stop();
  assert.equal(groups.watches, 0);
  kv.close();
});

Deno.test("[live feed] each change-feed entry is returned once, in the look-back window", async () => {
  const kv = await Deno.openKv(":memory:");
  const put = (key: string, ticket_id: number) =>
    kv.set(keys.liveInboxChange(key), { ticket_id, reason: "created" });
  const now = Date.now();
  const at = (ms: number, r: string) => encodeTime(ms, 10) + r.padStart(16, "0");
  await put(at(now - 120_000, "1"), 1); // before the window
  await put(at(now - 1000, "2"), 2);
  const feed = new InboxFeed(kv, 30_000);
  await feed.prime();
  assert.deepEqual(await feed.poll(), []);
  // a writer whose key sorts before one already seen (made earlier, committed later)
  await put(at(now - 2000, "3"), 3);
  await put(at(now, "4"), 4);
  assert.deepEqual((await feed.poll()).map((c) => c.ticket_id), [3, 4]);
  assert.deepEqual(await feed.poll(), []);
  assert.deepEqual((await changesSince(kv, now - 200_000)).map((c) => c.ticket_id), [1, 3, 2, 4]);
  kv.close();
});
