/** The reply's MIME message: headers, the HTML part, and header injection on the raw bytes. */
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { buildReplyMail, escapeHtml, renderReplyRaw, textToHtml } from "./outbound_mail.ts";
import { headerBlock, parseMail } from "./parse.ts";
import type { OutboxRecord } from "./outbox.ts";

function record(over: Partial<OutboxRecord> = {}): OutboxRecord {
  return {
    v: 1,
    ticket_id: 7,
    message: "01MSG",
    message_id: "<01ABC.0f0f@desk.example>",
    to: { email: "cara@customer.example", name: "Cara Customer" },
    subject: "Re: [#7] Printer on fire",
    in_reply_to: "<q2@customer.example>",
    references: ["<q1@customer.example>", "<q2@customer.example>"],
    state: "queued",
    attempts: 0,
    in_doubt: 0,
    queued_at: new Date().toISOString(),
    next_at: Date.now(),
    lease_until: null,
    last_error: null,
    ...over,
  };
}

const sender = { from_address: "help@desk.example", from_name: "Desk Team" };

/** Header lines (unfolded) named `name`, case-insensitive. */
function lines(raw: Uint8Array, name: string): string[] {
  return headerBlock(raw).split(/\r?\n(?![ \t])/).filter((l) =>
    l.toLowerCase().startsWith(name.toLowerCase() + ":")
  );
}

Deno.test("[outbound mail] a reply carries threading headers, one References, no Auto-Submitted", async () => {
  const raw = await renderReplyRaw(buildReplyMail(record(), sender, "Hello\n\nBye"));
  const p = await parseMail(raw);
  strictEqual(p.messageId, "<01ABC.0f0f@desk.example>");
  deepStrictEqual(p.inReplyTo, ["<q2@customer.example>"]);
  deepStrictEqual(p.references, ["<q1@customer.example>", "<q2@customer.example>"]);
  strictEqual(lines(raw, "References").length, 1);
  deepStrictEqual(lines(raw, "X-WarmDesk-Ticket-Id"), ["X-WarmDesk-Ticket-Id: 7"]);
  strictEqual(p.warmdeskTicketId, 7);
  deepStrictEqual(lines(raw, "Auto-Submitted"), []);
  strictEqual(p.subject, "Re: [#7] Printer on fire");
  deepStrictEqual(p.from, { name: "Desk Team", email: "help@desk.example" });
  strictEqual(p.to[0].email, "cara@customer.example");
  strictEqual(p.to[0].name, "Cara Customer");
  ok(p.text.startsWith("Hello"));
  ok(p.html?.includes("Bye"));
  strictEqual(p.auto, null);
});

Deno.test("[outbound mail] the first reply of a thread has no In-Reply-To or References", async () => {
  const raw = await renderReplyRaw(
    buildReplyMail(record({ in_reply_to: null, references: [] }), sender, "x"),
  );
  deepStrictEqual(lines(raw, "In-Reply-To"), []);
  deepStrictEqual(lines(raw, "References"), []);
  strictEqual(lines(raw, "Message-ID").length, 1);
});

Deno.test("[outbound mail] the HTML part escapes everything the agent typed", () => {
  strictEqual(
    escapeHtml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
  const html = textToHtml("<script>alert(1)</script>\nline 2\n\n\npara <b>2</b>");
  ok(!html.includes("<script>"));
  ok(html.includes("<p>&lt;script&gt;alert(1)&lt;/script&gt;<br>\nline 2</p>"));
  ok(html.includes("<p>para &lt;b&gt;2&lt;/b&gt;</p>"));
});

Deno.test("[outbound mail] CR/LF in subject, names, ids and addresses never creates a header", async () => {
  const inj = "\r\nX-Injected: 1\r\nBcc: victim@evil.example";
  const raw = await renderReplyRaw(buildReplyMail(
    record({
      subject: `Re: [#7] Hi${inj}`,
      to: { email: "cara@customer.example", name: `Cara${inj}` },
      in_reply_to: `<q2@customer.example>${inj}`,
      references: [`<q1@customer.example>${inj}`, "<bad id\r\nX-Injected: 1>"],
    }),
    { from_address: "help@desk.example", from_name: `Desk${inj}\nX-Injected: 1` },
    `body${inj}`,
  ));
  deepStrictEqual(lines(raw, "X-Injected"), []);
  deepStrictEqual(lines(raw, "Bcc"), []);
  strictEqual(lines(raw, "Subject").length, 1);
  strictEqual(lines(raw, "To").length, 1);
  strictEqual(lines(raw, "From").length, 1);
  const p = await parseMail(raw);
  deepStrictEqual(p.inReplyTo, ["<q2@customer.example>"]);
  deepStrictEqual(p.references, ["<q1@customer.example>"]);
  deepStrictEqual(p.to.map((a) => a.email), ["cara@customer.example"]);
  // the body may say anything: it is the body
  ok(p.text.includes("X-Injected: 1"));
});

Deno.test("[outbound mail] a record without a valid Message-ID is refused", () => {
  throws(() => buildReplyMail(record({ message_id: "no id\r\n" }), sender, "x"));
});
