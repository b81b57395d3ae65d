import assert from "node:assert/strict";
import { MailParseError, MAX_ATTACHMENTS, MAX_HEADER_FIELDS, parseMail } from "./parse.ts";

// Hostile and oversized input: every case must end in a result or a MailParseError, quickly.

const FIXTURES = new URL("../../tests/fixtures/mail/", import.meta.url);
const enc = new TextEncoder();

/** The raw bytes of every fixture that is an email (all but malformed_garbage). */
async function emailFixtures(): Promise<[string, Uint8Array][]> {
  const out: [string, Uint8Array][] = [];
  for await (const e of Deno.readDir(FIXTURES)) {
    if (!e.name.endsWith(".eml") || e.name === "malformed_garbage.eml") continue;
    out.push([e.name, await Deno.readFile(new URL(e.name, FIXTURES))]);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

Deno.test("[parse] non-email inputs are rejected by the documented rules", async () => {
  const cases: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["prose", enc.encode("hello, this is not an email\r\nat all\r\n")],
    ["no headers", enc.encode("\r\njust a body\r\n")],
    ["no From/Message-ID/Subject", enc.encode("X-Foo: bar\r\nDate: today\r\n\r\nbody\r\n")],
    ["NUL in headers", enc.encode("Subject: a\u0000b\r\n\r\nbody")],
    ["random bytes", crypto.getRandomValues(new Uint8Array(4096))],
  ];
  for (const [label, raw] of cases) {
    await assert.rejects(parseMail(raw), MailParseError, label);
  }
});

Deno.test("[parse] header count and header size are bounded", async () => {
  const many = "Subject: x\r\n" + "X-A: b\r\n".repeat(MAX_HEADER_FIELDS) + "\r\nbody\r\n";
  await assert.rejects(parseMail(enc.encode(many)), /header fields/);
  const big = "Subject: x\r\nX-Big: " + "a".repeat(1024 * 1024 + 10) + "\r\n\r\nbody";
  await assert.rejects(parseMail(enc.encode(big)), MailParseError);
});

Deno.test("[parse] deep MIME nesting is rejected, not recursed into", async () => {
  let body = "Content-Type: text/plain\r\n\r\ninner\r\n";
  for (let i = 0; i < 80; i++) {
    body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
  }
  await assert.rejects(parseMail(enc.encode("Subject: deep\r\n" + body)), MailParseError);
});

Deno.test("[parse] attachments beyond the cap are dropped and counted", async () => {
  const n = MAX_ATTACHMENTS + 5;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    parts.push(
      `--z\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="f${i}.bin"\r\n\r\nx\r\n`,
    );
  }
  const raw =
    `Subject: many\r\nFrom: a@b.example\r\nContent-Type: multipart/mixed; boundary="z"\r\n\r\n${
      parts.join("")
    }--z--\r\n`;
  const m = await parseMail(enc.encode(raw));
  assert.equal(m.attachments.length, MAX_ATTACHMENTS);
  assert.equal(m.attachmentsDropped, 5);
  assert.equal(m.attachments[0].filename, "f0.bin");
});

Deno.test("[parse] garbage ids, dates and ticket headers become null", async () => {
  const raw = "From: x@y.example\r\nSubject: s [#0]\r\nMessage-ID:    \r\nDate: not a date\r\n" +
    "X-WarmDesk-Ticket-Id: 12abc\r\nReturn-Path: <>\r\nIn-Reply-To: <a b@c>\r\n\r\nbody";
  const m = await parseMail(enc.encode(raw));
  assert.equal(m.messageId, null);
  assert.equal(m.date, null);
  assert.equal(m.warmdeskTicketId, null);
  assert.equal(m.subjectTicketId, null);
  assert.equal(m.returnPath, "");
  assert.deepEqual(m.inReplyTo, []);
});

Deno.test("[parse] a leading mbox From line and LF-only line endings are accepted", async () => {
  const raw =
    "From someone@example Tue May 14 09:00:00 2024\nFrom: a@b.example\nSubject: lf\n\nbody\n";
  const m = await parseMail(enc.encode(raw));
  assert.equal(m.subject, "lf");
  assert.equal(m.from?.email, "a@b.example");
});

Deno.test("[parse] random mutations of fixtures either parse or throw MailParseError", async () => {
  // Deterministic PRNG so a failure can be reproduced.
  let seed = 0x2f6b1d;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (const [name, base] of await emailFixtures()) {
    for (let round = 0; round < 8; round++) {
      const raw = base.slice(0, Math.max(1, Math.floor(base.length * rnd())));
      for (let k = 0; k < 20; k++) raw[Math.floor(rnd() * raw.length)] = Math.floor(rnd() * 256);
      try {
        const m = await parseMail(raw);
        assert.doesNotMatch(m.subject, /[\r\n]/);
      } catch (err) {
        assert.ok(err instanceof MailParseError, `${name}/${round}: ${err}`);
      }
    }
  }
});

Deno.test("[parse] throughput over the fixtures (printed, not asserted)", async () => {
  const raws = (await emailFixtures()).map(([, raw]) => raw);
  const rounds = 20;
  let bytes = 0;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const raw of raws) {
      await parseMail(raw);
      bytes += raw.length;
    }
  }
  const secs = (performance.now() - t0) / 1000;
  const n = rounds * raws.length;
  console.log(
    `[parse] ${n} messages, ${(bytes / 1024).toFixed(0)} KiB in ${secs.toFixed(2)} s: ` +
      `${(n / secs).toFixed(0)} msgs/s, ${(bytes / 1024 / 1024 / secs).toFixed(2)} MiB/s`,
  );
  assert.ok(n > 0);
});
