import assert from "node:assert/strict";
import {
  isValidEmail,
  MAX_DISPLAY_NAME_CHARS,
  MAX_REFERENCES,
  referencesChain,
  replySubject,
  safeDisplayName,
  safeHeaderValue,
} from "./outbound_headers.ts";

/** Deterministic PRNG (LCG) so a failing property can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

// Characters that matter for header injection, mixed with ordinary text.
const NASTY = [
  "\r",
  "\n",
  "\r\n",
  "\u0000",
  "\t",
  "\v",
  "\f",
  "\u0085",
  "\u2028",
  "\u2029",
  "\u202e",
  "\u200b",
  "\ufeff",
  "\u007f",
  "\u001b",
  "Bcc: victim@evil.example",
  "X-Injected: 1",
  "<",
  ">",
  '"',
  ",",
  ":",
  ";",
  "@",
  "\\",
  " ",
  "Re:",
  "[#7]",
  "é",
  "日本",
  "😀",
  "a",
  "Z",
  "0",
];

function randomString(r: () => number, max = 40): string {
  const n = Math.floor(r() * max);
  let s = "";
  for (let i = 0; i < n; i++) {
    s += r() < 0.3
      ? String.fromCharCode(Math.floor(r() * 0x80))
      : NASTY[Math.floor(r() * NASTY.length)];
  }
  return s;
}

// deno-lint-ignore no-control-regex
const LINE_BREAKING = /[\r\n\u0000\u0085\u2028\u2029\v\f]/;

Deno.test("[outbound] property: safeHeaderValue never yields a line break, NUL or control char", () => {
  const r = rng(0x5eed1);
  for (let i = 0; i < 5000; i++) {
    const input = randomString(r);
    const out = safeHeaderValue(input);
    assert.doesNotMatch(out, LINE_BREAKING, JSON.stringify(input));
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(out, /[\u0000-\u001f\u007f-\u009f]/, JSON.stringify(input));
    assert.equal(out, out.trim());
    assert.doesNotMatch(out, /\s{2}/);
    assert.equal(safeHeaderValue(out), out, "idempotent");
  }
});

Deno.test("[outbound] property: safeDisplayName is one line without address syntax", () => {
  const r = rng(0x5eed2);
  for (let i = 0; i < 5000; i++) {
    const input = randomString(r, 200);
    const out = safeDisplayName(input);
    assert.doesNotMatch(out, LINE_BREAKING, JSON.stringify(input));
    assert.doesNotMatch(out, /["<>\\,;:@]/, JSON.stringify(input));
    assert.ok(Array.from(out).length <= MAX_DISPLAY_NAME_CHARS);
    assert.equal(out, out.trim());
  }
});

Deno.test("[outbound] property: replySubject is one line with exactly one Re: and tag", () => {
  const r = rng(0x5eed3);
  for (let i = 0; i < 3000; i++) {
    const input = randomString(r, 60);
    const id = 1 + Math.floor(r() * 100000);
    const out = replySubject(id, input);
    assert.doesNotMatch(out, LINE_BREAKING, JSON.stringify(input));
    assert.ok(out.startsWith(`Re: [#${id}]`), out);
    assert.equal((out.match(/\[#\d+\]/g) ?? []).length, 1, out);
    assert.doesNotMatch(out.slice(`Re: [#${id}]`.length), /^\s*re\s*:/i, out);
  }
});

Deno.test("[outbound] property: isValidEmail never accepts CR/LF, spaces, commas or brackets", () => {
  const r = rng(0x5eed4);
  for (let i = 0; i < 5000; i++) {
    const base = ["a@b.example", "x.y+z@mail.example.com", "u@localhost"][i % 3];
    const pos = Math.floor(r() * (base.length + 1));
    const bad = ["\r", "\n", " ", ",", "<", ">", "\u0000", '"', "\t", "(", ")"][
      Math.floor(r() * 11)
    ];
    const input = base.slice(0, pos) + bad + base.slice(pos);
    assert.equal(isValidEmail(input), false, JSON.stringify(input));
  }
});

Deno.test("[outbound] safeHeaderValue examples", () => {
  assert.equal(safeHeaderValue("Hello\r\nBcc: x@y"), "Hello Bcc: x@y");
  assert.equal(safeHeaderValue("  a\t\tb\u0000c  "), "a b c");
  assert.equal(safeHeaderValue("x\u2028y\u202ez"), "x y z");
  assert.equal(safeHeaderValue(""), "");
});

Deno.test("[outbound] safeDisplayName examples", () => {
  assert.equal(safeDisplayName('Anna "the boss" Schmidt'), "Anna the boss Schmidt");
  assert.equal(safeDisplayName("Eve <eve@evil.example>, x@y"), "Eve eve evil.example x y");
  assert.equal(safeDisplayName("Jürgen Groß"), "Jürgen Groß");
  assert.equal(safeDisplayName("x".repeat(500)).length, MAX_DISPLAY_NAME_CHARS);
});

Deno.test("[outbound] isValidEmail accepts ordinary addresses and rejects odd ones", () => {
  for (
    const ok of ["a@b.example", "first.last+tag@sub.example.co.uk", "u@localhost", "o'brien@x.ie"]
  ) {
    assert.equal(isValidEmail(ok), true, ok);
  }
  for (
    const bad of [
      "",
      "a",
      "@b.example",
      "a@",
      "a@@b",
      "a@b@c",
      ".a@b.example",
      "a.@b.example",
      "a..b@c.example",
      "a@-b.example",
      "a@b..example",
      "a@[127.0.0.1]",
      "a@1.2.3.4",
      '"a b"@c.example',
      "jür@x.example",
      "a@x.example\r\nBcc: v@x",
      "x".repeat(65) + "@b.example",
      "a@" + "b".repeat(64) + ".example",
    ]
  ) {
    assert.equal(isValidEmail(bad), false, bad);
  }
});

Deno.test("[outbound] replySubject strips stacked prefixes and old tags", () => {
  assert.equal(replySubject(42, "Printer broken"), "Re: [#42] Printer broken");
  assert.equal(replySubject(42, "Re: [#42] Printer broken"), "Re: [#42] Printer broken");
  assert.equal(replySubject(42, "RE: Re: AW: Fwd: Printer"), "Re: [#42] Printer");
  assert.equal(replySubject(42, "Re[2]: [#7] Aw: Printer [#9]"), "Re: [#42] Printer");
  assert.equal(replySubject(42, "Re: Re:"), "Re: [#42]");
  assert.equal(replySubject(42, "Printer\r\nBcc: x@y"), "Re: [#42] Printer Bcc: x@y");
  assert.equal(replySubject(42, "Regarding: contract"), "Re: [#42] Regarding: contract");
  assert.equal(replySubject(1, "x".repeat(2000)).length, "Re: [#1] ".length + 500);
  assert.throws(() => replySubject(0, "x"), RangeError);
  assert.throws(() => replySubject(1.5, "x"), RangeError);
});

Deno.test("[outbound] referencesChain appends the inbound id, dedupes and caps", () => {
  assert.deepEqual(referencesChain(null), []);
  assert.deepEqual(referencesChain({ messageId: "<m@x>", references: [] }), ["<m@x>"]);
  assert.deepEqual(referencesChain({ messageId: null, references: ["<a@x>"] }), ["<a@x>"]);
  assert.deepEqual(
    referencesChain({ messageId: "<c@x>", references: ["<a@x>", "<b@x>", "<a@x>", "<c@x>"] }),
    ["<a@x>", "<b@x>", "<c@x>"],
  );
  assert.deepEqual(
    referencesChain({ messageId: "garbage id", references: ["<a@x>", "bad\r\n<b@x>"] }),
    ["<a@x>", "<b@x>"],
  );
  const refs = Array.from({ length: 60 }, (_, i) => `<r${i}@x>`);
  const out = referencesChain({ messageId: "<last@x>", references: refs });
  assert.equal(out.length, MAX_REFERENCES);
  assert.equal(out[0], "<r0@x>");
  assert.equal(out[out.length - 1], "<last@x>");
  assert.equal(out[1], "<r41@x>");
  for (const id of out) assert.doesNotMatch(id, /[\s]/);
});
