/**
 * Reply → SMTP acceptance latency on loopback: an agent's reply posted through the API, stored,
 * queued, picked up by the outbox worker, built and sent; the clock stops when the SMTP server
 * has answered the final "." with 250 (the worker logs the acceptance right then).
 *
 *   deno run -A bench/outbound.ts [replies=200]
 *
 * Targets: a minimal SMTP responder built in (it answers at once, so the figure is WarmDesk's own
 * time), then Postfix from the mail stack when POSTFIX_PORT is set (`deno task bench` starts the
 * stack; Postfix hands mail for the customer's outside domain to its catch-all mailbox).
 */
import { startTestApp } from "../tests/support/app.ts";
import { createTicket } from "../lib/db/messages.ts";
import { setLogSink } from "../lib/log.ts";
import { ms, summary } from "./stats.ts";

const N = Number(Deno.args[0] ?? 200);
const TO = "cara@customer.example";

/** An SMTP server that accepts everything immediately (no greeting delay, no storage). */
function minimalSmtp(): { port: number; count: () => number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  const te = new TextEncoder(), td = new TextDecoder();
  const serve = async (conn: Deno.Conn) => {
    const say = (s: string) => conn.write(te.encode(s + "\r\n"));
    await say("220 bench ESMTP");
    let buf = "", inData = false;
    const chunk = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await conn.read(chunk);
        if (n === null) break;
        buf += td.decode(chunk.subarray(0, n));
        for (;;) {
          if (inData) {
            const end = buf.indexOf("\r\n.\r\n");
            if (end < 0) break;
            buf = buf.slice(end + 5);
            inData = false;
            accepted++;
            await say("250 2.0.0 queued");
            continue;
          }
          const nl = buf.indexOf("\r\n");
          if (nl < 0) break;
          const line = buf.slice(0, nl).toUpperCase();
          buf = buf.slice(nl + 2);
          if (line.startsWith("EHLO")) await say("250-bench\r\n250 8BITMIME");
          else if (line.startsWith("DATA")) {
            inData = true;
            await say("354 go ahead");
            // the body may already be in the buffer: "\r\n.\r\n" search needs the leading CRLF
            buf = "\r\n" + buf;
          } else if (line.startsWith("QUIT")) {
            await say("221 bye");
            conn.close();
            return;
          } else await say("250 ok");
        }
      }
    } catch {
      // client went away
    }
    try {
      conn.close();
    } catch {
      // already closed
    }
  };
  (async () => {
    for await (const c of listener) serve(c);
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    count: () => accepted,
    close: () => listener.close(),
  };
}

/** Time N replies against one SMTP server; prints p50/p95. */
async function run(target: string, host: string, port: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "warmdesk-bench-" });
  const t = await startTestApp({ kvPath: `${dir}/bench.kv` });
  let waiter: ((at: number) => void) | null = null;
  const sendMs: number[] = [];
  const restore = setLogSink((line) => {
    if (waiter && line.includes('"outbound mail accepted"')) {
      sendMs.push(JSON.parse(line).ms);
      waiter(performance.now());
    }
  });
  try {
    const c = await t.client();
    const put = await c.json("PUT", "/api/v1/admin/smtp", {
      host,
      port,
      security: "none",
      from_address: "help@desk.example",
      from_name: "Bench Desk",
    });
    if (put.status !== 200) throw new Error(JSON.stringify(put.body));
    const res = await createTicket(t.kv, {
      subject: "Printer on fire",
      source: "email",
      from_name: "Cara",
      from_email: TO,
      customer_id: null,
      first: {
        direction: "inbound",
        author_name: "Cara",
        author_email: TO,
        author_user_id: null,
        body_text: "It burns.",
        body_html: null,
        via_email: true,
        message_id: "<bench-q1@customer.example>",
        auto: false,
      },
    });
    if (res.duplicate) throw new Error("duplicate");
    const path = `/api/v1/tickets/${res.ticket.id}/messages`;
    const body = "Thanks for your message. We are looking into it.\n\n".repeat(8);

    const samples: number[] = [];
    for (let i = 0; i < N + 10; i++) {
      const accepted = new Promise<number>((r) => (waiter = r));
      const t0 = performance.now();
      const r = await c.json("POST", path, { body: `${i}\n${body}` });
      if (r.status !== 201) throw new Error(JSON.stringify(r.body));
      const t1 = await accepted;
      waiter = null;
      if (i >= 10) samples.push(t1 - t0); // the first ten warm up the JIT and connections
    }
    const s = summary(samples);
    const w = summary(sendMs.slice(10));
    console.log(
      `reply → SMTP acceptance (${target}), ${s.n} replies: p50 ${ms(s.p50)}, p95 ${
        ms(s.p95)
      }, max ${ms(s.max)}; the SMTP session alone: p50 ${ms(w.p50)}`,
    );
  } finally {
    restore();
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const minimal = minimalSmtp();
try {
  await run("minimal in-process SMTP responder", "127.0.0.1", minimal.port);
  console.log(`  the responder accepted ${minimal.count()} mails`);
} finally {
  minimal.close();
}
const postfix = Deno.env.get("POSTFIX_PORT");
if (postfix) await run(`Postfix at 127.0.0.1:${postfix}`, "127.0.0.1", Number(postfix));
else console.log("POSTFIX_PORT not set: Postfix skipped (run through `deno task bench`)");
