/**
 * What ends up stored: decoded charsets, sanitized HTML, attachments and inline images, the
 * size cap, and mail that cannot be parsed (kept raw, listed, downloadable, never blocking).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { appFor, fixture, mail, pollNow, testBox } from "./imap_helpers.ts";
import { keys } from "../lib/db/keys.ts";
import type { TicketRecord } from "../lib/db/tickets.ts";
import { listMessages } from "../lib/db/messages.ts";

async function ticketsBySubject(kv: Deno.Kv): Promise<Map<string, TicketRecord>> {
  const out = new Map<string, TicketRecord>();
  for await (const e of kv.list<TicketRecord>({ prefix: keys.tickets() })) {
    out.set(e.value.subject, e.value);
  }
  return out;
}

Deno.test("[content] subjects and names are decoded from the charset each mail declares", async () => {
  const box = await testBox();
  const t = await appFor(box);
  try {
    for (
      const f of [
        "charset_gbk.eml",
        "charset_iso_2022_jp.eml",
        "charset_iso_8859_1.eml",
        "charset_iso_8859_15.eml",
        "rfc2047_subject_and_name.eml",
        "latin1_raw_headers.eml",
      ]
    ) await box.append(fixture(f));
    const r = await pollNow(t);
    deepStrictEqual([r.imported, r.failed], [6, 0]);
    const bySubject = await ticketsBySubject(t.kv);
    for (
      const s of [
        "服务器故障",
        "請求書について",
        "Rechnung für März",
        "Prix en € (euro)",
        "Bestätigung für Köln",
      ]
    ) ok(bySubject.has(s), `missing subject ${s}; have ${[...bySubject.keys()].join(" | ")}`);
    for (const tk of bySubject.values()) {
      ok(
        !/=\?|\uFFFD/.test(tk.subject + tk.from_name),
        `undecoded: ${tk.subject} / ${tk.from_name}`,
      );
      ok(tk.from_email.includes("@"));
    }
    const jp = bySubject.get("請求書について")!;
    const body = (await listMessages(t.kv, jp.id))[0].body_text;
    ok(body.includes("お世話になっております"), body);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[content] HTML with scripts is stored sanitized with a text version", async () => {
  const box = await testBox();
  const t = await appFor(box);
  try {
    await box.append(fixture("html_with_scripts.eml"));
    deepStrictEqual((await pollNow(t)).imported, 1);
    const tk = (await ticketsBySubject(t.kv)).get("Invoice attached, please check")!;
    const c = await t.client();
    const view = await c.json("GET", `/api/v1/tickets/${tk.id}`);
    const m = view.body.messages[0];
    ok(m.body_html.includes("Please review the invoice"), m.body_html);
    ok(!/<script|onload|onerror|javascript:|expression\(/i.test(m.body_html), m.body_html);
    ok(m.body_text.includes("Please review the invoice"), m.body_text);
    strictEqual(m.via_email, true);
    strictEqual(m.message_id, "<xss.001@evil.example>");
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[content] attachments and inline cid: images are stored and served", async () => {
  const box = await testBox();
  const t = await appFor(box);
  try {
    await box.append(fixture("attachment_pdf.eml"));
    await box.append(fixture("inline_cid_image.eml"));
    deepStrictEqual((await pollNow(t)).imported, 2);
    const by = await ticketsBySubject(t.kv);
    const c = await t.client();

    const pdf = (await c.json("GET", `/api/v1/tickets/${by.get("Contract renewal 2024")!.id}`))
      .body.messages[0];
    strictEqual(pdf.attachments.length, 1);
    const a = pdf.attachments[0];
    deepStrictEqual([a.filename, a.content_type, a.inline], [
      "Vertrag 2024 – signed.pdf",
      "application/pdf",
      false,
    ]);
    const res = await c.fetch(`/api/v1/attachments/${a.id}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    strictEqual(res.status, 200);
    strictEqual(new TextDecoder().decode(bytes.subarray(0, 5)), "%PDF-");
    strictEqual(bytes.length, a.size);
    ok(res.headers.get("content-disposition")!.includes("filename*=UTF-8''Vertrag"));

    const img = (await c.json(
      "GET",
      `/api/v1/tickets/${by.get("Logo is broken on the login page")!.id}`,
    )).body.messages[0];
    const inline = img.attachments.find((x: { inline: boolean }) => x.inline);
    ok(inline, JSON.stringify(img.attachments));
    ok(img.body_html.includes(`/api/v1/attachments/${inline.id}`), img.body_html);
    ok(!img.body_html.includes("cid:"), img.body_html);
    const got = await c.fetch(`/api/v1/attachments/${inline.id}`);
    strictEqual(got.status, 200);
    ok(got.headers.get("content-type")!.startsWith("image/"));
    await got.body?.cancel();
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[content] unparseable mail is kept raw, listed with its error, and blocks nothing", async () => {
  const box = await testBox();
  const t = await appFor(box);
  try {
    const bad = fixture("imap/malformed_no_headers.eml");
    await box.append(bad);
    await box.append(fixture("malformed_garbage.eml"));
    await box.append(mail({ subject: "good one" }));
    await box.append(fixture("malformed_truncated_mime.eml"));
    const r = await pollNow(t);
    deepStrictEqual([r.ok, r.imported, r.failed, r.skipped], [true, 2, 2, 0]);
    strictEqual(await box.count(), 0, "the bad mail was moved out of the way too");

    const c = await t.client();
    const list = await c.json("GET", "/api/v1/admin/imap/failed");
    strictEqual(list.status, 200);
    strictEqual(list.body.failed.length, 2);
    // Dovecot hands back CRLF line ends for an LF-only APPEND
    const norm = (b: Uint8Array) => new TextDecoder().decode(b).replace(/\r\n/g, "\n").trim();
    let f = null;
    for (const x of list.body.failed) {
      deepStrictEqual([x.kind, x.raw_available, x.headers_only], ["unparseable", true, false]);
      ok(x.error.includes("no header block"), x.error);
      ok(!("blob_id" in x));
      const raw = await c.fetch(`/api/v1/admin/imap/failed/${x.id}`);
      strictEqual(raw.status, 200);
      ok(raw.headers.get("content-disposition")!.startsWith("attachment"));
      strictEqual(raw.headers.get("content-type"), "application/octet-stream");
      if (norm(new Uint8Array(await raw.arrayBuffer())) === norm(bad)) f = x;
    }
    ok(f, "the raw copy is downloadable byte for byte");

    const last = (await c.json("GET", "/api/v1/admin/imap")).body.settings.last_poll;
    deepStrictEqual([last.imported, last.failed], [2, 2]);

    // the same bad mail arriving again is not listed twice
    await box.append(bad);
    const r2 = await pollNow(t);
    deepStrictEqual([r2.failed, r2.skipped], [0, 1]);
    strictEqual((await c.json("GET", "/api/v1/admin/imap/failed")).body.failed.length, 2);

    strictEqual(
      (await c.fetch(`/api/v1/admin/imap/failed/${f.id}`, { method: "DELETE" })).status,
      204,
    );
    strictEqual((await c.json("GET", "/api/v1/admin/imap/failed")).body.failed.length, 1);
    strictEqual((await c.json("GET", `/api/v1/admin/imap/failed/${f.id}`)).status, 404);
    strictEqual((await c.json("GET", "/api/v1/admin/imap/failed/not-an-id")).status, 404);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[content] mail over the size cap is refused with a clear record and moved flagged", async () => {
  const box = await testBox();
  const t = await appFor(box, {}, { env: { WARMDESK_MAX_MESSAGE_BYTES: "4096" } });
  try {
    await box.append(mail({ subject: "too big", body: "x".repeat(10_000) }));
    await box.append(mail({ subject: "small" }));
    const r = await pollNow(t);
    deepStrictEqual([r.imported, r.failed], [1, 1]);
    const c = await t.client();
    const f = (await c.json("GET", "/api/v1/admin/imap/failed")).body.failed[0];
    deepStrictEqual([f.kind, f.headers_only, f.subject], ["too_large", true, "too big"]);
    ok(f.size > 10_000);
    ok(f.error.includes("4096"), f.error);
    const raw = await (await c.fetch(`/api/v1/admin/imap/failed/${f.id}`)).text();
    ok(raw.includes("Subject: too big"));
    ok(!raw.includes("xxxxxxxxxx"), "only the header section was kept");
    const lock = await box.client.getMailboxLock(box.processed);
    try {
      const flags = await box.client.fetchAll("1:*", { uid: true, flags: true, size: true });
      const big = flags.find((m) => (m.size ?? 0) > 10_000)!;
      ok(big.flags?.has("\\Flagged"));
    } finally {
      lock.release();
    }
    deepStrictEqual((await pollNow(t)).failed, 0);
  } finally {
    await t.close();
    await box.close();
  }
});
