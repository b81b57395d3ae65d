import assert from "node:assert/strict";
import {
  dedupeKey,
  extractMessageIds,
  MAX_REFERENCE_IDS,
  MAX_TICKET_ID,
  newMessageId,
  normalizeMessageId,
  parseTicketNumber,
  subjectTicketTag,
} from "./ids.ts";

Deno.test("[ids] normalizeMessageId brackets, trims and takes the first <...> group", () => {
  assert.equal(normalizeMessageId("<abc@host>"), "<abc@host>");
  assert.equal(normalizeMessageId("  abc@host \r\n"), "<abc@host>");
  assert.equal(normalizeMessageId("< abc@host >"), "<abc@host>");
  assert.equal(normalizeMessageId("(comment) <abc@host> trailing"), "<abc@host>");
  assert.equal(normalizeMessageId("<A.B+C=D@Host.Example>"), "<A.B+C=D@Host.Example>");
  assert.equal(normalizeMessageId("<20240101123456.ABCDEF>"), "<20240101123456.ABCDEF>");
});

Deno.test("[ids] normalizeMessageId rejects empty, whitespace and garbage values", () => {
  for (
    const v of [
      null,
      undefined,
      "",
      "   ",
      "<>",
      "< >",
      "<abc",
      "<a b@c>",
      "a b@c",
      "@",
      "<@>",
      "<a@>",
      "<@b>",
      "<a\u0000b@c>",
      "short",
      "<" + "x".repeat(2000) + "@h>",
    ]
  ) {
    assert.equal(normalizeMessageId(v), null, JSON.stringify(v));
  }
});

Deno.test("[ids] extractMessageIds keeps order, dedupes and handles bare ids", () => {
  assert.deepEqual(extractMessageIds("<a@x> <b@x>\r\n <a@x>\t<c@x>"), ["<a@x>", "<b@x>", "<c@x>"]);
  assert.deepEqual(extractMessageIds("a@x, b@x c@x"), ["<a@x>", "<b@x>", "<c@x>"]);
  assert.deepEqual(extractMessageIds("Your message of Monday <a@x>"), ["<a@x>"]);
  assert.deepEqual(extractMessageIds("<> <a b@x> <ok@x>"), ["<ok@x>"]);
  assert.deepEqual(extractMessageIds(""), []);
  assert.deepEqual(extractMessageIds(null), []);
  const many = Array.from({ length: MAX_REFERENCE_IDS + 50 }, (_, i) => `<r${i}@x>`).join(" ");
  assert.equal(extractMessageIds(many).length, MAX_REFERENCE_IDS);
});

Deno.test("[ids] dedupeKey hashes the id case-insensitively, else the raw bytes", async () => {
  const raw = new TextEncoder().encode("Subject: x\r\n\r\nbody");
  const k = await dedupeKey("<Abc@Host>", raw);
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(k, await dedupeKey("<abc@host>", new Uint8Array([1, 2, 3])));
  assert.equal(k, await dedupeKey("abc@host", raw));
  // Known answer: sha256("mid:<abc@host>")
  const expected = Array.from(
    new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode("mid:<abc@host>")),
    ),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  assert.equal(k, expected);
  const r1 = await dedupeKey(null, raw);
  assert.notEqual(r1, k);
  assert.equal(r1, await dedupeKey("   ", raw), "a garbage id falls back to the raw hash");
  assert.notEqual(r1, await dedupeKey(null, raw.subarray(1)));
});

Deno.test("[ids] newMessageId is unique, bracketed and uses a valid domain", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const id = newMessageId("Support.Example.com");
    assert.match(id, /^<[0-9A-Z]{26}\.[0-9a-f]{12}@support\.example\.com>$/);
    assert.equal(normalizeMessageId(id), id);
    seen.add(id);
  }
  assert.equal(seen.size, 500);
  for (const bad of ["", "evil.example>\r\nBcc: x", "a b", "[127.0.0.1]", "-x.example"]) {
    assert.match(newMessageId(bad), /@warmdesk\.invalid>$/, bad);
  }
});

Deno.test("[ids] subjectTicketTag finds the first valid [#N] anywhere", () => {
  assert.equal(subjectTicketTag("Re: [#42] Printer"), 42);
  assert.equal(subjectTicketTag("Printer [#7] and [#8]"), 7);
  assert.equal(subjectTicketTag("[#0] then [#5]"), 5);
  assert.equal(subjectTicketTag(`[#${MAX_TICKET_ID}]`), MAX_TICKET_ID);
  assert.equal(subjectTicketTag(`[#${MAX_TICKET_ID + 1}]`), null);
  assert.equal(subjectTicketTag("[#99999999999999]"), null);
  for (const s of ["[# 42]", "[#-1]", "[#4.2]", "#42", "[42]", "[#]", "", "[#abc]"]) {
    assert.equal(subjectTicketTag(s), null, s);
  }
});

Deno.test("[ids] parseTicketNumber accepts plain positive integers only", () => {
  assert.equal(parseTicketNumber(" 12 "), 12);
  assert.equal(parseTicketNumber("007"), 7);
  for (const v of ["0", "-1", "1e3", "12abc", "0x10", "", " ", "1.0", null, "99999999999"]) {
    assert.equal(parseTicketNumber(v), null, String(v));
  }
});
