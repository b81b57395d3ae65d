/**
 * Reply threading end to end: mail APPENDed to Dovecot, polled, stored. Each rule, the trust
 * rule, reopening, our own outbound Message-ID, auto-replies and bounces.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { appFor, fixture, mail, newId, pollNow, type TestBox, testBox } from "./imap_helpers.ts";
import { keys } from "../lib/db/keys.ts";
import type { TicketRecord } from "../lib/db/tickets.ts";
import { listMessages } from "../lib/db/messages.ts";
import type { TestApp } from "./support/app.ts";

interface Ctx {
  box: TestBox;
  t: TestApp;
  /** Message-ID of the mail that opened ticket #1. */
  first: string;
}

/** A mailbox, an app, and ticket #1 opened by cara@customer.example. */
async function withTicket(fn: (c: Ctx) => Promise<void>): Promise<void> {
  const box = await testBox();
  const t = await appFor(box);
  try {
    const first = newId();
    await box.append(mail({ messageId: first, subject: "Printer on fire" }));
    deepStrictEqual((await pollNow(t)).imported, 1);
    await fn({ box, t, first });
  } finally {
    await t.close();
    await box.close();
  }
}

async function ticket(kv: Deno.Kv, id: number): Promise<TicketRecord> {
  return (await kv.get<TicketRecord>(keys.ticket(id))).value!;
}

async function ticketCount(kv: Deno.Kv): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: keys.tickets() })) n++;
  return n;
}

async function pollOne(c: Ctx, raw: string | Uint8Array) {
  await c.box.append(raw);
  return await pollNow(c.t);
}

Deno.test("[thread] X-WarmDesk-Ticket-Id threads a reply with an unrelated subject", () =>
  withTicket(async (c) => {
    const r = await pollOne(
      c,
      mail({ subject: "something else", headers: { "X-WarmDesk-Ticket-Id": "1" } }),
    );
    deepStrictEqual([r.imported, r.threaded], [1, 1]);
    strictEqual((await ticket(c.t.kv, 1)).message_count, 2);
    strictEqual(await ticketCount(c.t.kv), 1);
  }));

Deno.test("[thread] In-Reply-To threads a reply", () =>
  withTicket(async (c) => {
    const r = await pollOne(c, mail({ subject: "Re: hm", inReplyTo: c.first }));
    deepStrictEqual([r.imported, r.threaded], [1, 1]);
    strictEqual(await ticketCount(c.t.kv), 1);
  }));

Deno.test("[thread] a References chain matches on an id in the middle", () =>
  withTicket(async (c) => {
    const r = await pollOne(
      c,
      mail({
        subject: "Re: Re: chain",
        inReplyTo: newId("elsewhere.example"),
        references: [newId("root.example"), c.first, newId("elsewhere.example")],
      }),
    );
    deepStrictEqual([r.imported, r.threaded], [1, 1]);
    strictEqual((await ticket(c.t.kv, 1)).message_count, 2);
  }));

Deno.test("[thread] a [#N] subject tag threads a reply", () =>
  withTicket(async (c) => {
    const r = await pollOne(c, mail({ subject: "Fwd: [#1] Printer on fire" }));
    deepStrictEqual([r.imported, r.threaded], [1, 1]);
    strictEqual(await ticketCount(c.t.kv), 1);
  }));

Deno.test("[thread] a reply to our outbound reply's Message-ID threads", () =>
  withTicket(async (c) => {
    const admin = await c.t.client();
    const sent = await admin.json("POST", "/api/v1/tickets/1/messages", { body: "On our way." });
    strictEqual(sent.status, 201, JSON.stringify(sent.body));
    const outId = sent.body.message.message_id;
    ok(outId, "the outbound reply has a Message-ID");
    // a stranger's address, but the id it answers is only known to the recipients
    const r = await pollOne(
      c,
      mail({ from: "Cara <cara@home.example>", subject: "Re: ok", inReplyTo: outId }),
    );
    deepStrictEqual([r.imported, r.threaded], [1, 1]);
    strictEqual((await ticket(c.t.kv, 1)).message_count, 3);
  }));

Deno.test("[thread] trust rule: a stranger's forged header or tag opens a new ticket", () =>
  withTicket(async (c) => {
    const evil = "Mallory <mallory@evil.example>";
    const r1 = await pollOne(
      c,
      mail({ from: evil, subject: "hi", headers: { "X-WarmDesk-Ticket-Id": "1" } }),
    );
    deepStrictEqual([r1.imported, r1.threaded], [1, 0]);
    const r2 = await pollOne(c, mail({ from: evil, subject: "Re: [#1] Printer on fire" }));
    deepStrictEqual([r2.imported, r2.threaded], [1, 0]);
    strictEqual((await ticket(c.t.kv, 1)).message_count, 1, "ticket #1 untouched");
    strictEqual(await ticketCount(c.t.kv), 3);
    strictEqual((await ticket(c.t.kv, 3)).from_email, "mallory@evil.example");
    // a colleague at the customer's domain is trusted
    const r3 = await pollOne(
      c,
      mail({ from: "Boss <boss@customer.example>", subject: "[#1] status?" }),
    );
    deepStrictEqual([r3.imported, r3.threaded], [1, 1]);
    // ...and from then on is a participant of #1 (no longer needs the domain)
    strictEqual((await c.t.kv.get(keys.ticketParticipant(1, "boss@customer.example"))).value, true);
  }));

Deno.test("[thread] a reply reopens resolved and closed tickets; other statuses stay", () =>
  withTicket(async (c) => {
    const admin = await c.t.client();
    for (
      const [status, after] of [["resolved", "open"], ["closed", "open"], ["pending", "pending"]]
    ) {
      strictEqual((await admin.json("PATCH", "/api/v1/tickets/1", { status })).status, 200);
      const r = await pollOne(c, mail({ subject: "Re: still burning", inReplyTo: c.first }));
      strictEqual(r.threaded, 1);
      strictEqual((await ticket(c.t.kv, 1)).status, after, `after ${status}`);
    }
    // a new ticket stays new when its customer writes again
    const other = newId();
    await pollOne(c, mail({ messageId: other, from: "x@y.example", subject: "new one" }));
    await pollOne(c, mail({ from: "x@y.example", subject: "more", inReplyTo: other }));
    strictEqual((await ticket(c.t.kv, 2)).status, "new");
  }));

Deno.test("[thread] auto-replies and bounces: stored with auto on a match, never reopen, skipped otherwise", () =>
  withTicket(async (c) => {
    const admin = await c.t.client();
    await admin.json("PATCH", "/api/v1/tickets/1", { status: "resolved" });
    const ooo = mail({
      subject: "Automatic reply: Printer on fire",
      inReplyTo: c.first,
      headers: { "Auto-Submitted": "auto-replied" },
      body: "I am out of office.",
    });
    const sent = await admin.json("POST", "/api/v1/tickets/1/messages", { body: "Fixed?" });
    const outId: string = sent.body.message.message_id;
    await admin.json("PATCH", "/api/v1/tickets/1", { status: "resolved" });
    const bounce = [
      "Return-Path: <>",
      "From: Mail Delivery System <MAILER-DAEMON@mx.relay.example>",
      "To: support@example.test",
      "Subject: Undelivered Mail Returned to Sender",
      `Message-ID: ${newId("mx.relay.example")}`,
      "MIME-Version: 1.0",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
      "",
      "--B",
      "Content-Type: text/plain",
      "",
      "Your message could not be delivered.",
      "--B",
      "Content-Type: text/rfc822-headers",
      "",
      "From: Support <support@example.test>",
      `Message-ID: ${outId}`,
      "--B--",
      "",
    ].join("\r\n");
    await c.box.append(ooo);
    await c.box.append(bounce);
    await c.box.append(fixture("auto_reply_x_autoreply.eml")); // matches nothing
    await c.box.append(fixture("bounce_mailer_daemon.eml")); // matches nothing
    const r = await pollNow(c.t);
    deepStrictEqual([r.imported, r.threaded, r.skipped, r.failed], [2, 2, 2, 0]);
    const t1 = await ticket(c.t.kv, 1);
    strictEqual(t1.status, "resolved", "auto mail never reopens");
    strictEqual(await ticketCount(c.t.kv), 1, "auto mail never opens a ticket");
    const autos = (await listMessages(c.t.kv, 1)).filter((m) => m.auto);
    strictEqual(autos.length, 2);
    ok(autos.every((m) => m.direction === "inbound" && m.via_email));
    // replies still go to the human's latest mail, not to the auto-reply
    strictEqual(t1.reply_target?.message_id, c.first);
  }));
