/**
 * Ingestion throughput and IDLE latency against the Dovecot of the mail stack.
 *
 *   deno run -A bench/ingest.ts [messages=1000] [idle_samples=50]
 *
 * 1. APPENDs N varied messages (plain, HTML, replies, a small attachment) to a fresh mailbox.
 * 2. The raw limit: one imapflow connection FETCHes every source and postal-mime parses it,
 *    read-only, nothing stored (the work any IMAP importer has to do).
 * 3. WarmDesk: "Poll now" until the mailbox is empty (headers first, dedupe check, batched
 *    source fetch, parse + sanitize, thread, one atomic commit per message, UID MOVE), on a KV
 *    file like a real deployment. Printed as messages/s and as a ratio to the raw limit.
 * 4. Where the time goes: the same messages through each WarmDesk stage alone (no IMAP):
 *    postal-mime as the raw limit uses it, WarmDesk's parse stage (postal-mime plus checks,
 *    sanitized HTML and a text version), and the store stage (threading and one atomic commit
 *    per message, one after the other) on a fresh KV file and on `:memory:`. Printed with the
 *    CPU time of all threads per message, next to that of the raw limit and of the polls.
 * 5. IDLE latency: WarmDesk running with IDLE on; a second client APPENDs one message at a
 *    time; the clock stops when the ticket is committed (a KV watch on the inbox sentinel).
 *    Dovecot itself waits about 0.5 s before it tells IDLE clients about new mail.
 */
import { Buffer } from "node:buffer";
import process from "node:process";
import { ImapFlow } from "imapflow";
import PostalMime from "postal-mime";
import { startTestApp } from "../tests/support/app.ts";
import { mailEnv, takeUser } from "../tests/support/mailstack.ts";
import { saveImapSettings } from "../lib/mail/imap_settings.ts";
import { keys } from "../lib/db/keys.ts";
import { midDedupeKey, type PollResult } from "../lib/mail/poll.ts";
import { parseMail } from "../lib/mail/parse.ts";
import { ingestParsed } from "../lib/mail/ingest.ts";
import { ms, summary } from "./stats.ts";

const N = Number(Deno.args[0] ?? 1000);
const IDLE_SAMPLES = Number(Deno.args[1] ?? 50);
const env = mailEnv();
const user = await takeUser();

function client(): ImapFlow {
  const c = new ImapFlow({
    host: env.host,
    port: env.imapPort,
    secure: false,
    doSTARTTLS: false,
    auth: { user: user.email, pass: user.password },
    logger: false,
    disableAutoIdle: true,
  });
  c.on("error", () => {});
  return c;
}

/** Message i of the corpus: mostly plain, every 4th HTML, every 5th a reply, every 10th an attachment. */
function message(i: number, runId: string): string {
  const id = `<bench-${runId}-${i}@customer${i % 50}.example>`;
  const head = [
    `From: Customer ${i} <c${i}@customer${i % 50}.example>`,
    "To: support@example.test",
    `Subject: Question ${i}: the printer on floor ${i % 7} does not print`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: ${id}`,
    "MIME-Version: 1.0",
  ];
  if (i % 5 === 4) {
    head.push(`In-Reply-To: <bench-${runId}-${i - 1}@customer${(i - 1) % 50}.example>`);
  }
  const text = `Hello,\r\n\r\n${
    "It prints blank pages again. ".repeat(12)
  }\r\n\r\nThanks, C${i}\r\n`;
  if (i % 10 === 9) {
    const pdf = btoa("%PDF-1.4\n" + "x".repeat(3000)).replace(/.{76}/g, "$&\r\n");
    return [
      ...head,
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain; charset=utf-8",
      "",
      text,
      "--b",
      'Content-Type: application/pdf; name="scan.pdf"',
      "Content-Transfer-Encoding: base64",
      'Content-Disposition: attachment; filename="scan.pdf"',
      "",
      pdf,
      "--b--",
      "",
    ].join("\r\n");
  }
  if (i % 4 === 3) {
    return [
      ...head,
      "Content-Type: text/html; charset=utf-8",
      "",
      `<html><body><p>Hello,</p><p>${
        "It prints <b>blank</b> pages again. ".repeat(12)
      }</p><p style="color:#333">Thanks, C${i}</p><script>x()</script></body></html>`,
      "",
    ].join("\r\n");
  }
  return [...head, "Content-Type: text/plain; charset=utf-8", "", text].join("\r\n");
}

async function appendAll(c: ImapFlow, box: string, runId: string): Promise<number> {
  let bytes = 0;
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < N; i++) {
    const m = message(i, runId);
    bytes += m.length;
    all.push(c.append(box, Buffer.from(m)));
  }
  await Promise.all(all);
  return bytes;
}

/** CPU time of the whole process (every thread), in µs per message, since `from`. */
function cpuPerMessage(from: NodeJS.CpuUsage): string {
  const u = process.cpuUsage(from);
  return `${((u.user + u.system) / N).toFixed(0)} µs CPU/msg`;
}

/** The raw limit: fetch every source and parse it, nothing else. */
async function rawFetchParse(box: string): Promise<number> {
  const c = client();
  await c.connect();
  await c.mailboxOpen(box, { readOnly: true });
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  for await (const m of c.fetch("1:*", { uid: true, source: true })) {
    await PostalMime.parse(m.source!);
    n++;
  }
  const dt = performance.now() - t0;
  rawCpu = cpuPerMessage(cpu);
  await c.logout();
  if (n !== N) throw new Error(`raw fetch saw ${n} of ${N}`);
  return dt;
}

let rawCpu = "";
const runId = crypto.randomUUID().slice(0, 8);
const box = `bench-${runId}`, done = `${box}-done`;
const admin = client();
await admin.connect();
await admin.mailboxCreate(box);
const tA = performance.now();
const bytes = await appendAll(admin, box, runId);
console.log(
  `ingest: APPENDed ${N} messages (${(bytes / 1048576).toFixed(1)} MiB) in ${
    ((performance.now() - tA) / 1000).toFixed(1)
  } s`,
);

// warm-up of the JIT and postal-mime on a few messages, both paths alike
for (let i = 0; i < 20; i++) await PostalMime.parse(message(i, "warm"));

const rawMs = await rawFetchParse(box);
const rawRate = N / rawMs * 1000;
console.log(
  `ingest: raw imapflow FETCH + postal-mime parse: ${N} in ${ms(rawMs)} → ${
    rawRate.toFixed(0)
  } msg/s (${rawCpu})`,
);

const dir = await Deno.makeTempDir({ prefix: "warmdesk-bench-" });
// the same messages again for the in-memory run (server-side COPY)
const boxMem = `${box}-mem`;
await admin.mailboxCreate(boxMem);
{
  const lock = await admin.getMailboxLock(box);
  try {
    await admin.messageCopy("1:*", boxMem);
  } finally {
    lock.release();
  }
}

/** Poll `mailbox` until it is empty with a fresh WarmDesk on `kvPath`; ms taken. */
async function warmdesk(mailbox: string, kvPath: string | undefined): Promise<number> {
  const t = await startTestApp({ start: false, kvPath });
  await saveImapSettings(t.app.svc, {
    host: env.host,
    port: env.imapPort,
    security: "none",
    username: user.email,
    password: user.password,
    mailbox,
    processed_mailbox: `${mailbox}-done`,
    enabled: false,
    idle: false,
  });
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const polls: PollResult[] = [];
  for (;;) {
    const r: PollResult = await t.app.svc.ext.pollNow();
    polls.push(r);
    if (!r.ok) throw new Error(`poll failed: ${r.error}`);
    if (!r.more) break;
  }
  const dt = performance.now() - t0;
  const cpuUsed = cpuPerMessage(cpu);
  const imported = polls.reduce((n, r) => n + r.imported, 0);
  const threaded = polls.reduce((n, r) => n + r.threaded, 0);
  if (imported !== N) throw new Error(`imported ${imported} of ${N}`);
  const rate = N / dt * 1000;
  console.log(
    `ingest: WarmDesk poll, KV ${
      kvPath ? "file" : ":memory:"
    } (${polls.length} polls of ≤500): ${N} stored (${threaded} threaded) in ${ms(dt)} → ${
      rate.toFixed(0)
    } msg/s, ratio to raw ${(rate / rawRate).toFixed(2)} (${cpuUsed})`,
  );
  await t.close();
  return dt;
}

const wdMs = await warmdesk(box, `${dir}/bench.kv`);
await warmdesk(boxMem, undefined);
console.log(
  `ingest: ratio WarmDesk (KV file) / raw = ${((N / wdMs) / (N / rawMs)).toFixed(2)} (aim ≥ 0.50)`,
);

// Where the time goes: each stage alone on the same messages, one message after the other
{
  const raws = Array.from({ length: N }, (_, i) => new TextEncoder().encode(message(i, runId)));
  const stage = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const cpu = process.cpuUsage();
    const t = performance.now();
    const out = await f();
    const us = (performance.now() - t) / N * 1000;
    console.log(`ingest: stage alone, ${name}: ${us.toFixed(0)} µs/msg (${cpuPerMessage(cpu)})`);
    return out;
  };
  await stage("postal-mime parse (as the raw limit)", async () => {
    for (const r of raws) await PostalMime.parse(r);
  });
  const parsed = await stage("WarmDesk parse (parseMail)", async () => {
    const out = [];
    for (const r of raws) out.push(await parseMail(r));
    return out;
  });
  for (const kvPath of [`${dir}/stages.kv`, undefined]) {
    const t = await startTestApp({ start: false, kvPath });
    await stage(
      `store (thread + one commit each), KV ${kvPath ? "file" : ":memory:"}`,
      async () => {
        for (let i = 0; i < N; i++) {
          const dedupe = midDedupeKey(parsed[i].messageId!);
          await ingestParsed(t.app.svc, parsed[i], dedupe, { raw: raws[i], prechecked: true });
        }
      },
    );
    await t.close();
  }
}

// IDLE latency: APPEND → ticket committed
const live = await startTestApp({ start: true, kvPath: `${dir}/idle.kv` });
await saveImapSettings(live.app.svc, {
  host: env.host,
  port: env.imapPort,
  security: "none",
  username: user.email,
  password: user.password,
  mailbox: box,
  processed_mailbox: done,
  enabled: true,
  idle: true,
  poll_interval: 3600,
});
while (live.app.svc.ext.imapIdleState() !== "idling") await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 300)); // the first poll after connecting
const samples: number[] = [];
const watch = live.kv.watch([keys.liveInbox()]).getReader();
await watch.read(); // current value
for (let i = 0; i < IDLE_SAMPLES; i++) {
  const subject = `idle ${runId} ${i}`;
  const start = performance.now();
  // a new conversation each time (message() makes every 5th a reply, which opens no ticket)
  const raw = message(100_000 + 5 * i, runId).replace(/^Subject: .*$/m, `Subject: ${subject}`);
  await admin.append(box, Buffer.from(raw));
  for (;;) {
    await watch.read();
    let found = false;
    for await (
      const e of live.kv.list<{ subject: string }>({ prefix: keys.tickets() }, {
        reverse: true,
        limit: 3,
      })
    ) {
      if (e.value.subject === subject) found = true;
    }
    if (found) break;
  }
  samples.push(performance.now() - start);
}
await watch.cancel();
const s = summary(samples);
console.log(
  `ingest: IDLE latency APPEND → stored, ${s.n} samples: p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, max ${
    ms(s.max)
  }`,
);

await live.close();
for (const b of [box, done, boxMem, `${boxMem}-done`]) {
  await admin.mailboxDelete(b).catch(() => {});
}
await admin.logout();
await user.release();
await Deno.remove(dir, { recursive: true });
