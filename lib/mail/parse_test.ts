import assert from "node:assert/strict";
import {
  headerBlock,
  MailParseError,
  type ParsedMail,
  parseHeaderIds,
  parseMail,
} from "./parse.ts";
import { dedupeKey } from "./ids.ts";

const FIXTURES = new URL("../../tests/fixtures/mail/", import.meta.url);

function fixture(name: string): Promise<Uint8Array> {
  return Deno.readFile(new URL(`${name}.eml`, FIXTURES));
}

async function parseFixture(name: string): Promise<ParsedMail> {
  return parseMail(await fixture(name));
}

/** Every fixture that is an email (all but malformed_garbage). */
const EMAIL_FIXTURES = [
  "plain_text",
  "html_only",
  "html_with_scripts",
  "multipart_alternative",
  "attachment_pdf",
  "inline_cid_image",
  "charset_iso_2022_jp",
  "charset_gbk",
  "charset_iso_8859_1",
  "charset_iso_8859_15",
  "latin1_raw_headers",
  "rfc2047_subject_and_name",
  "utf8_headers",
  "reply_in_reply_to",
  "reply_references_chain",
  "reply_subject_tag",
  "reply_warmdesk_header",
  "auto_reply_rfc3834",
  "auto_reply_x_autoreply",
  "precedence_bulk",
  "bounce_dsn",
  "bounce_mailer_daemon",
  "empty_return_path",
  "no_message_id",
  "duplicate_message_id",
  "malformed_truncated_mime",
  "huge_headers",
  "subject_with_crlf_injection",
];

function assertOneLine(s: string) {
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(s, /[\r\n\t\u0000]/, JSON.stringify(s));
  assert.equal(s, s.trim());
}

Deno.test("[parse] every fixture file is covered by a test list and uses CRLF", async () => {
  const names: string[] = [];
  for await (const e of Deno.readDir(FIXTURES)) {
    if (e.name.endsWith(".eml")) names.push(e.name.slice(0, -4));
  }
  assert.deepEqual(names.sort(), [...EMAIL_FIXTURES, "malformed_garbage"].sort());
  for (const name of EMAIL_FIXTURES) {
    const text = new TextDecoder("latin1").decode(await fixture(name));
    assert.doesNotMatch(text, /[^\r]\n/, `${name} has a bare LF`);
  }
});

Deno.test("[parse] every email fixture yields the invariants of ParsedMail", async () => {
  for (const name of EMAIL_FIXTURES) {
    const m = await parseFixture(name);
    assertOneLine(m.subject);
    assert.equal(typeof m.text, "string");
    assert.doesNotMatch(m.text, /\r/);
    if (m.from) {
      assertOneLine(m.from.name);
      assert.equal(m.from.email, m.from.email.toLowerCase().trim());
    }
    for (const a of [...m.to, ...m.cc]) assertOneLine(a.name);
    if (m.date !== null) assert.equal(new Date(m.date).toISOString(), m.date);
    if (m.messageId !== null) assert.match(m.messageId, /^<[^<>\s]+>$/);
    for (const id of [...m.inReplyTo, ...m.references]) assert.match(id, /^<[^<>\s]+>$/);
    if (m.html !== null) assert.doesNotMatch(m.html, /<script|onerror=|onload=|javascript:/i);
    for (const a of m.attachments) {
      assert.equal(a.size, a.content.byteLength);
      assertOneLine(a.filename);
      if (a.contentId !== null) assert.doesNotMatch(a.contentId, /[<>]/);
    }
  }
});

Deno.test("[parse] the headers-first fast path finds the same ids as the full parse", async () => {
  for (const name of EMAIL_FIXTURES) {
    const raw = await fixture(name);
    const m = await parseMail(raw);
    const fast = parseHeaderIds(headerBlock(raw));
    assert.deepEqual(fast, {
      messageId: m.messageId,
      inReplyTo: m.inReplyTo,
      references: m.references,
    }, name);
  }
});

Deno.test("[parse] plain text mail gives sender, recipients, date and body", async () => {
  const m = await parseFixture("plain_text");
  assert.equal(m.messageId, "<CAF7x9pQ1=plain.text@mail.customer.example>");
  assert.equal(m.subject, "Printer on floor 3 keeps jamming");
  assert.deepEqual(m.from, { name: "Anna Schmidt", email: "anna.schmidt@customer.example" });
  assert.deepEqual(m.to, [{ name: "Support", email: "support@warmdesk.test" }]);
  assert.equal(m.returnPath, "anna.schmidt@customer.example");
  assert.equal(m.date, "2024-05-14T09:12:01.000Z");
  assert.match(m.text, /jams on every second page/);
  assert.equal(m.html, null);
  assert.equal(m.auto, null);
  assert.deepEqual(m.attachments, []);
  assert.ok(m.headers.some((h) => h.key === "delivered-to"));
});

Deno.test("[parse] HTML-only mail gets sanitized HTML and text derived from it", async () => {
  const m = await parseFixture("html_only");
  assert.ok(m.html !== null);
  assert.match(m.html, /<b>Monday<\/b>/);
  assert.doesNotMatch(m.html, /<title>|<html|<head/i);
  assert.match(m.html, /href="https:\/\/shop\.example\/orders\/88231" rel="noopener noreferrer"/);
  assert.match(m.text, /arrive on Monday/);
  assert.match(m.text, /Carrier: DHL/);
  assert.match(m.text, /José/);
  assert.doesNotMatch(m.text, /<p>/);
});

Deno.test("[parse] hostile HTML loses scripts, handlers, iframes, forms and CSS expressions", async () => {
  const m = await parseFixture("html_with_scripts");
  const html = m.html ?? "";
  for (const bad of [/<script/i, /<style/i, /<iframe/i, /<form/i, /<input/i, /<object/i, /<svg/i]) {
    assert.doesNotMatch(html, bad);
  }
  assert.doesNotMatch(html, /\son[a-z]+=/i);
  assert.doesNotMatch(html, /javascript:/i);
  assert.doesNotMatch(html, /expression|url\(|position|document\.cookie/i);
  assert.doesNotMatch(html, /class=|id=/);
  assert.match(html, /style="color:#333;font-weight:bold"/);
  assert.match(html, /href="https:\/\/pay\.example\/invoice\/77"/);
  assert.match(html, /Amount: 120 EUR/);
  assert.doesNotMatch(m.text, /alert|document\.location/);
  assert.match(m.text, /Please review the invoice/);
});

Deno.test("[parse] multipart/alternative keeps both bodies and all address fields", async () => {
  const m = await parseFixture("multipart_alternative");
  assert.deepEqual(m.from, { name: "Björn Larsson", email: "bjorn@nordic.example" });
  assert.deepEqual(m.replyTo, {
    name: "Helpdesk Contact",
    email: "helpdesk-contact@nordic.example",
  });
  assert.deepEqual(m.cc, [
    { name: "Karin L.", email: "karin@nordic.example" },
    { name: "", email: "ops@nordic.example" },
  ]);
  assert.match(m.text, /drops every 10 minutes/);
  assert.doesNotMatch(m.text, /<div>/);
  assert.match(m.html ?? "", /<b>VPN<\/b>/);
});

Deno.test("[parse] a PDF attachment keeps its bytes and RFC 2231 filename", async () => {
  const m = await parseFixture("attachment_pdf");
  assert.equal(m.attachments.length, 1);
  const a = m.attachments[0];
  assert.equal(a.filename, "Vertrag 2024 – signed.pdf");
  assert.equal(a.contentType, "application/pdf");
  assert.equal(a.inline, false);
  assert.equal(a.contentId, null);
  assert.equal(new TextDecoder().decode(a.content.subarray(0, 8)), "%PDF-1.4");
  assert.match(m.text, /signed contract/);
});

Deno.test("[parse] an image referenced by cid: is inline, an unreferenced part is not", async () => {
  const m = await parseFixture("inline_cid_image");
  const img = m.attachments.find((a) => a.contentType === "image/png");
  const notes = m.attachments.find((a) => a.filename === "notes.txt");
  assert.ok(img && notes);
  assert.equal(img.contentId, "logo.png@01DA0001");
  assert.equal(img.inline, true);
  assert.deepEqual([...img.content.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  assert.equal(notes.inline, false);
  assert.match(m.html ?? "", /src="cid:logo\.png@01DA0001"/);
});

Deno.test("[parse] legacy charsets decode in bodies, encoded words and raw 8-bit headers", async () => {
  const jp = await parseFixture("charset_iso_2022_jp");
  assert.equal(jp.subject, "請求書について");
  assert.equal(jp.from?.name, "山田太郎");
  assert.match(jp.text, /請求書の金額が違うようです。/);
  const gb = await parseFixture("charset_gbk");
  assert.equal(gb.subject, "服务器故障");
  assert.equal(gb.from?.name, "王小明");
  assert.match(gb.text, /我们的邮件服务器无法连接。\n谢谢！/);
  const l1 = await parseFixture("charset_iso_8859_1");
  assert.equal(l1.subject, "Rechnung für März");
  assert.equal(l1.from?.name, "Jürgen Müller");
  assert.match(l1.text, /Grüße aus Köln/);
  const l15 = await parseFixture("charset_iso_8859_15");
  assert.equal(l15.subject, "Prix en € (euro)");
  assert.equal(l15.from?.name, "Françoise Désiré");
  assert.match(l15.text, /49 € pro Lizenz\.\nŒuvre complète/);
  const raw = await parseFixture("latin1_raw_headers");
  assert.equal(raw.subject, "Bestätigung für Köln");
  assert.equal(raw.from?.name, "Jürgen Müller");
});

Deno.test("[parse] mixed-charset RFC 2047 words and raw UTF-8 headers decode to one line", async () => {
  const m = await parseFixture("rfc2047_subject_and_name");
  assert.equal(m.subject, "Re: Bestellung für Café ☕ and plain words");
  assert.equal(m.from?.name, "Élodie François");
  assert.deepEqual(m.to.map((a) => a.name), ["Привет", "李雷"]);
  const u = await parseFixture("utf8_headers");
  assert.equal(u.subject, "Kündigung – Vertrag Nr. 12 für Café „Süß“ ✓");
  assert.deepEqual(u.from, { name: "Jürgen Groß", email: "juergen.gross@umlaut.example" });
  assert.equal(u.to[0].name, "Zoë Ångström");
});

Deno.test("[parse] reply headers give In-Reply-To, References and ticket hints", async () => {
  const irt = await parseFixture("reply_in_reply_to");
  assert.deepEqual(irt.inReplyTo, ["<01HY4Z3K6Q0000000000000000.a1b2c3d4e5f6@warmdesk.test>"]);
  assert.equal(irt.references.length, 2);
  const chain = await parseFixture("reply_references_chain");
  assert.deepEqual(chain.inReplyTo, []);
  assert.deepEqual(chain.references, [
    "<CAF7x9pQ1=plain.text@mail.customer.example>",
    "<01HY4Z3K6Q0000000000000000.a1b2c3d4e5f6@warmdesk.test>",
    "<colleague.reply.77@customer.example>",
  ]);
  assert.equal(chain.subjectTicketId, null);
  const tag = await parseFixture("reply_subject_tag");
  assert.equal(tag.subjectTicketId, 12);
  assert.equal(tag.warmdeskTicketId, null);
  const hdr = await parseFixture("reply_warmdesk_header");
  assert.equal(hdr.warmdeskTicketId, 12);
  assert.deepEqual(hdr.inReplyTo, ["<unknown-to-us@elsewhere.example>"]);
});

Deno.test("[parse] auto-replies and bounces are classified", async () => {
  const expected: Record<string, ParsedMail["auto"]> = {
    auto_reply_rfc3834: "auto-reply",
    auto_reply_x_autoreply: "auto-reply",
    precedence_bulk: "auto-reply",
    bounce_dsn: "bounce",
    bounce_mailer_daemon: "bounce",
    empty_return_path: "bounce",
    plain_text: null,
    reply_in_reply_to: null,
    html_only: null,
  };
  for (const [name, auto] of Object.entries(expected)) {
    assert.equal((await parseFixture(name)).auto, auto, name);
  }
  const dsn = await parseFixture("bounce_dsn");
  assert.equal(dsn.returnPath, "");
  assert.match(dsn.text, /User unknown/);
  assert.ok(dsn.attachments.some((a) => a.contentType === "message/delivery-status"));
  assert.equal((await parseFixture("bounce_mailer_daemon")).from?.name, "Mail Delivery Subsystem");
});

Deno.test("[parse] a mail without Message-ID dedupes by its raw bytes", async () => {
  const raw = await fixture("no_message_id");
  const m = await parseMail(raw);
  assert.equal(m.messageId, null);
  assert.equal(m.date, "2024-05-19T10:00:00.000Z");
  const k1 = await dedupeKey(m.messageId, raw);
  const k2 = await dedupeKey(null, raw.subarray(0, raw.length - 1));
  assert.match(k1, /^[0-9a-f]{64}$/);
  assert.notEqual(k1, k2);
});

Deno.test("[parse] a second copy with other trace headers has the same dedupe key", async () => {
  const a = await fixture("plain_text");
  const b = await fixture("duplicate_message_id");
  assert.notDeepEqual(a, b);
  const ma = await parseMail(a);
  const mb = await parseMail(b);
  assert.equal(await dedupeKey(ma.messageId, a), await dedupeKey(mb.messageId, b));
  const fast = parseHeaderIds(headerBlock(b));
  assert.equal(await dedupeKey(fast.messageId, b), await dedupeKey(ma.messageId, a));
});

Deno.test("[parse] binary garbage is rejected with MailParseError", async () => {
  await assert.rejects(parseMail(await fixture("malformed_garbage")), MailParseError);
});

Deno.test("[parse] a truncated multipart still parses leniently", async () => {
  const m = await parseFixture("malformed_truncated_mime");
  assert.equal(m.subject, "Upload got cut off");
  assert.match(m.text, /first part arrived intact/);
  assert.equal(m.attachments.length, 1);
  assert.equal(m.attachments[0].filename, "log.bin");
  assert.ok(m.attachments[0].size > 0);
});

Deno.test("[parse] huge headers parse with every Received line and all 300 references", async () => {
  const m = await parseFixture("huge_headers");
  assert.equal(m.headers.filter((h) => h.key === "received").length, 400);
  assert.equal(m.references.length, 300);
  assert.equal(m.references[299], "<ref299.thread@big.example>");
  assert.deepEqual(m.inReplyTo, ["<ref299.thread@big.example>"]);
  assert.equal(m.subject, "Many relays and a long thread");
});

Deno.test("[parse] CR/LF decoded from encoded words never survives into subject or names", async () => {
  const m = await parseFixture("subject_with_crlf_injection");
  assert.equal(m.subject, "Help needed Bcc: victim@evil.example X-Injected: 1 and more");
  assert.equal(m.from?.email, "eve@evil.example");
  assertOneLine(m.from?.name ?? "");
  assert.ok(!m.headers.some((h) => h.key === "x-injected" || h.key === "bcc"));
});
