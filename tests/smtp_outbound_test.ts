/**
 * Outgoing mail end to end: WarmDesk on a loopback port, a capturing SMTP server, replies
 * through the API. Covers headers, threading back, SMTP down/up with a restart in between,
 * header injection, and the retry of a failed delivery.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { startTestApp, type TestApp } from "./support/app.ts";
import { startSmtpSink } from "./support/smtp_sink.ts";
import { createTicket } from "../lib/db/messages.ts";
import { keys } from "../lib/db/keys.ts";
import { parseMail } from "../lib/mail/parse.ts";
import { headerBlock } from "../lib/mail/parse.ts";
import type { OutboxRecord } from "../lib/mail/outbox.ts";

/** An email ticket as the incoming pipeline would store it. */
async function emailTicket(
  kv: Deno.Kv,
  over: { subject?: string; name?: string; replyTo?: { email: string; name: string } } = {},
) {
  const res = await createTicket(kv, {
    subject: over.subject ?? "Printer on fire",
    source: "email",
    from_name: over.name ?? "Cara Customer",
    from_email: "cara@customer.example",
    customer_id: null,
    first: {
      direction: "inbound",
      author_name: over.name ?? "Cara Customer",
      author_email: "cara@customer.example",
      author_user_id: null,
      body_text: "It burns.",
      body_html: null,
      via_email: true,
      message_id: "<orig-1@customer.example>",
      auto: false,
      in_reply_to: null,
      references: ["<root-0@customer.example>"],
      reply_to: over.replyTo ?? null,
    },
  });
  if (res.duplicate) throw new Error("duplicate");
  return res.ticket;
}

async function configure(t: TestApp, port: number, extra: Record<string, unknown> = {}) {
  const c = await t.client();
  const r = await c.json("PUT", "/api/v1/admin/smtp", {
    host: "127.0.0.1",
    port,
    security: "none",
    from_address: "help@desk.example",
    from_name: "Desk Team",
    ...extra,
  });
  strictEqual(r.status, 200, JSON.stringify(r.body));
  return c;
}

/** Poll the ticket until the message's delivery has the wanted status. */
async function waitDelivery(
  t: TestApp,
  ticketId: number,
  messageId: string,
  status: string,
  timeoutMs = 20_000,
) {
  const c = await t.client();
  const t0 = Date.now();
  for (;;) {
    const r = await c.json("GET", `/api/v1/tickets/${ticketId}`);
    const m = r.body.messages.find((x: { id: string }) => x.id === messageId);
    if (m?.delivery?.status === status) return m;
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`delivery stayed ${JSON.stringify(m?.delivery)}; wanted ${status}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const headerValues = (raw: Uint8Array, name: string) =>
  headerBlock(raw).split(/\r?\n(?![ \t])/).filter((l) =>
    l.toLowerCase().startsWith(name.toLowerCase() + ":")
  );

Deno.test("[smtp] a reply on an email ticket goes out once with the threading headers", async () => {
  const sink = await startSmtpSink();
  const t = await startTestApp();
  try {
    const c = await configure(t, sink.port);
    const ticket = await emailTicket(t.kv, {
      subject: "Re: RE: Printer on fire",
      replyTo: { email: "replies@customer.example", name: "Cara Replies" },
    });
    const r = await c.json("POST", `/api/v1/tickets/${ticket.id}/messages`, {
      body: "We are on it.\n\nThe Desk",
    });
    strictEqual(r.status, 201);
    const m = r.body.message;
    strictEqual(m.via_email, true);
    strictEqual(m.delivery.status, "queued");
    ok(/^<[^<>@\s]+@desk\.example>$/.test(m.message_id), m.message_id);

    const sent = await waitDelivery(t, ticket.id, m.id, "sent");
    strictEqual(sent.delivery.attempts, 1);
    strictEqual(sent.delivery.error, null);
    strictEqual(sink.messages.length, 1);
    const [mail] = sink.messages;
    deepStrictEqual(mail.to, ["replies@customer.example"]);
    strictEqual(mail.from, "help@desk.example");

    const p = await parseMail(mail.raw);
    strictEqual(p.messageId, m.message_id);
    deepStrictEqual(p.inReplyTo, ["<orig-1@customer.example>"]);
    deepStrictEqual(p.references, ["<root-0@customer.example>", "<orig-1@customer.example>"]);
    strictEqual(headerValues(mail.raw, "References").length, 1);
    strictEqual(p.subject, `Re: [#${ticket.id}] Printer on fire`);
    strictEqual(p.warmdeskTicketId, ticket.id);
    deepStrictEqual(headerValues(mail.raw, "X-WarmDesk-Ticket-Id"), [
      `X-WarmDesk-Ticket-Id: ${ticket.id}`,
    ]);
    deepStrictEqual(headerValues(mail.raw, "Auto-Submitted"), []);
    strictEqual(p.from?.email, "help@desk.example");
    strictEqual(p.from?.name, "Desk Team");
    strictEqual(p.to[0].email, "replies@customer.example");
    ok(p.text.includes("We are on it."));
    ok(p.html?.includes("We are on it."));

    // the thread index maps our Message-ID to the ticket (the customer's In-Reply-To finds it)
    const idx = await t.kv.get<number>(keys.threadIndex(m.message_id.toLowerCase()));
    strictEqual(idx.value, ticket.id);
    // delivered: the outbox is empty
    strictEqual((await t.kv.get(keys.outbox(m.id))).value, null);
  } finally {
    await t.close();
    await sink.close();
  }
});

Deno.test("[smtp] replies on web tickets send nothing", async () => {
  const sink = await startSmtpSink();
  const t = await startTestApp();
  try {
    const c = await configure(t, sink.port);
    const created = await c.json("POST", "/api/v1/tickets", { subject: "Web", body: "hi" });
    const r = await c.json("POST", `/api/v1/tickets/${created.body.ticket.id}/messages`, {
      body: "answer",
    });
    strictEqual(r.status, 201);
    strictEqual(r.body.message.via_email, false);
    strictEqual(r.body.message.delivery, null);
    strictEqual(r.body.message.message_id, null);
    const left = [];
    for await (const e of t.kv.list({ prefix: keys.outboxAll() })) left.push(e);
    strictEqual(left.length, 0);
    strictEqual(sink.messages.length, 0);
  } finally {
    await t.close();
    await sink.close();
  }
});

Deno.test("[smtp] CR/LF in subject, names and addresses never creates a header", async () => {
  const sink = await startSmtpSink();
  const t = await startTestApp();
  try {
    const c = await configure(t, sink.port, { from_name: "Desk" });
    // from_name with a line break is refused at the edge
    const bad = await c.json("PUT", "/api/v1/admin/smtp", { from_name: "Desk\r\nX-Injected: 1" });
    strictEqual(bad.status, 422);
    strictEqual(bad.body.field, "from_name");
    const badAddr = await c.json("PUT", "/api/v1/admin/smtp", {
      from_address: "help@desk.example\r\nX-Injected: 1",
    });
    strictEqual(badAddr.status, 422);
    strictEqual(badAddr.body.field, "from_address");

    // stored values that bypassed the edge (another writer, an old record) are still safe
    const ticket = await emailTicket(t.kv, {
      subject: "Hello\r\nX-Injected: 1\r\nBcc: victim@evil.example",
      name: "Eve\r\nX-Injected: 1",
      replyTo: { email: "eve@customer.example", name: "Eve\nX-Injected: 1\n" },
    });
    const r = await c.json("POST", `/api/v1/tickets/${ticket.id}/messages`, { body: "hi" });
    await waitDelivery(t, ticket.id, r.body.message.id, "sent");
    const raw = sink.messages[0].raw;
    deepStrictEqual(headerValues(raw, "X-Injected"), []);
    deepStrictEqual(headerValues(raw, "Bcc"), []);
    deepStrictEqual(sink.messages[0].to, ["eve@customer.example"]);
    strictEqual(headerValues(raw, "Subject").length, 1);

    // an address with CR/LF never reaches the wire: the reply fails without a send attempt
    const evil = await emailTicket(t.kv, {
      replyTo: { email: "x@customer.example\r\nX-Injected: 1", name: "X" },
    });
    const r2 = await c.json("POST", `/api/v1/tickets/${evil.id}/messages`, { body: "hi" });
    strictEqual(r2.body.message.delivery.status, "failed");
    ok(/not valid/.test(r2.body.message.delivery.error));
    strictEqual(sink.messages.length, 1);
  } finally {
    await t.close();
    await sink.close();
  }
});

/** Waits until the reply's first attempt failed and it is queued for a retry. */
async function waitRetrying(t: TestApp, ticketId: number, mid: string) {
  const c = await t.client();
  for (let i = 0;; i++) {
    const m = (await c.json("GET", `/api/v1/tickets/${ticketId}`)).body.messages
      .find((x: { id: string }) => x.id === mid);
    if (m.delivery.attempts >= 1 && m.delivery.status === "queued") return m;
    if (i > 400) throw new Error(JSON.stringify(m.delivery));
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("[smtp] SMTP down, WarmDesk restarted, SMTP up: the reply is delivered exactly once", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/warmdesk.kv`;
  const sink = await startSmtpSink();
  let t = await startTestApp({ kvPath });
  try {
    const c = await configure(t, sink.port);
    await sink.down();
    const ticket = await emailTicket(t.kv);
    const r = await c.json("POST", `/api/v1/tickets/${ticket.id}/messages`, { body: "hello" });
    const mid = r.body.message.id;
    // the first attempt fails with a precise error; the reply is kept, queued
    const m = await waitRetrying(t, ticket.id, mid);
    ok(/Connection to 127\.0\.0\.1:\d+ was refused/.test(m.delivery.error), m.delivery.error);

    await t.close();
    await sink.up();
    t = await startTestApp({ kvPath });
    // the settings did not change: the scheduled retry (within 30 s) delivers it
    const sent = await waitDelivery(t, ticket.id, mid, "sent", 40_000);
    strictEqual(sent.delivery.error, null);
    ok(sent.delivery.attempts >= 2);
    const [mail] = await sink.waitFor(1);
    strictEqual(sink.messages.length, 1);
    strictEqual((await parseMail(mail.raw)).messageId, sent.message_id);
    strictEqual((await t.kv.get(keys.outbox(mid))).value, null);
  } finally {
    await t.close();
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[smtp] a temporary refusal keeps the reply queued with the server's answer", async () => {
  const sink = await startSmtpSink();
  const t = await startTestApp();
  try {
    const c = await configure(t, sink.port);
    sink.refuse(451, "greylisted, try again later");
    const ticket = await emailTicket(t.kv);
    const r = await c.json("POST", `/api/v1/tickets/${ticket.id}/messages`, { body: "hello" });
    const m = await waitRetrying(t, ticket.id, r.body.message.id);
    ok(/451 greylisted/.test(m.delivery.error), m.delivery.error);
    strictEqual(sink.messages.length, 0);
    sink.accept();
    // saving the settings (unchanged) sends waiting mail at once
    await configure(t, sink.port);
    const sent = await waitDelivery(t, ticket.id, r.body.message.id, "sent");
    strictEqual(sent.delivery.attempts, 2);
    strictEqual(sink.messages.length, 1);
  } finally {
    await t.close();
    await sink.close();
  }
});

Deno.test("[smtp] saving SMTP settings sends waiting mail at once", async () => {
  const sink = await startSmtpSink();
  const t = await startTestApp();
  try {
    const c = await t.client();
    // no settings yet: the reply waits with a clear error
    const ticket = await emailTicket(t.kv);
    const r = await c.json("POST", `/api/v1/tickets/${ticket.id}/messages`, { body: "hi" });
    const mid = r.body.message.id;
    const t0 = Date.now();
    for (;;) {
      const rec = (await t.kv.get<OutboxRecord>(keys.outbox(mid))).value!;
      if (rec.state === "queued" && rec.attempts === 1) {
        ok(/not set up/.test(rec.last_error ?? ""), rec.last_error ?? "");
        ok(rec.next_at > Date.now() + 2000, "next attempt is scheduled later");
        break;
      }
      if (Date.now() - t0 > 20_000) throw new Error(JSON.stringify(rec));
      await new Promise((r) => setTimeout(r, 20));
    }
    await configure(t, sink.port);
    await waitDelivery(t, ticket.id, mid, "sent");
    strictEqual(sink.messages.length, 1);
  } finally {
    await t.close();
    await sink.close();
  }
});
