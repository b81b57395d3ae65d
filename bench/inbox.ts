/**
 * Inbox listing and badge counts with 10,000 tickets in a file-backed KV: p50/p95 of
 * GET /api/v1/inbox and GET /api/v1/inbox/counts over loopback HTTP, and the process RSS.
 *
 *   deno run -A bench/inbox.ts [tickets=10000] [requests=300]
 */
import { startTestApp } from "../tests/support/app.ts";
import { createTicket } from "../lib/db/messages.ts";
import { markRead } from "../lib/db/inbox.ts";
import { mib, ms, summary } from "./stats.ts";

const N = Number(Deno.args[0] ?? 10_000);
const R = Number(Deno.args[1] ?? 300);
const dir = await Deno.makeTempDir({ prefix: "warmdesk-bench-" });
const t = await startTestApp({ kvPath: `${dir}/bench.kv`, start: false });
try {
  const c = await t.client();
  const me = (await c.json("GET", "/api/v1/auth/me")).body.user.id;
  const t0 = performance.now();
  const CONCURRENCY = 8;
  let next = 1;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next <= N) {
      const i = next++;
      const r = await createTicket(t.kv, {
        subject: `Ticket ${i}: printer trouble`,
        source: "email",
        from_name: `Customer ${i}`,
        from_email: `c${i}@example.test`,
        customer_id: null,
        first: {
          direction: "inbound",
          author_name: `Customer ${i}`,
          author_email: `c${i}@example.test`,
          author_user_id: null,
          body_text: "The printer is on fire again. ".repeat(10),
          body_html: null,
          via_email: true,
          message_id: `<m${i}@example.test>`,
          auto: false,
        },
      });
      if (!r.duplicate && i % 3 === 0) await markRead(t.kv, r.ticket.id, me);
    }
  }));
  const seedMs = performance.now() - t0;
  console.log(
    `seeded ${N} tickets in ${(seedMs / 1000).toFixed(1)} s (${
      (N / seedMs * 1000).toFixed(0)
    } tickets/s)`,
  );

  for (
    const [name, path] of [["GET /api/v1/inbox", "/api/v1/inbox"], [
      "GET /api/v1/inbox/counts",
      "/api/v1/inbox/counts",
    ]]
  ) {
    for (let i = 0; i < 20; i++) await (await c.fetch(path)).arrayBuffer(); // warm up
    const samples: number[] = [];
    let last: unknown = null;
    for (let i = 0; i < R; i++) {
      const s = performance.now();
      const res = await c.fetch(path);
      last = await res.json();
      samples.push(performance.now() - s);
    }
    const st = summary(samples);
    const l = last as { unread: number; total: number; tickets?: unknown[] };
    console.log(
      `${name}: p50 ${ms(st.p50)}, p95 ${ms(st.p95)}, max ${ms(st.max)} over ${st.n} requests` +
        ` (unread ${l.unread}, total ${l.total}${
          l.tickets ? `, ${l.tickets.length} tickets/page` : ""
        })`,
    );
  }
  const mem = Deno.memoryUsage();
  console.log(`RSS ${mib(mem.rss)}, heap used ${mib(mem.heapUsed)}`);
} finally {
  await t.close();
  await Deno.remove(dir, { recursive: true });
}
