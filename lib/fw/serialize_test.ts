import assert from "node:assert/strict";
import { computed, type Signal, signal } from "@preact/signals";
import { deserializeProps, serializeProps, SlotRef } from "./serialize.ts";

Deno.test("[fw serialize] Date, Map, Set, URL, BigInt, undefined and cycles round-trip", () => {
  const tags = new Map<string, unknown>([["a", 1], ["b", new Date(0)]]);
  const self: Record<string, unknown> = { name: "loop" };
  self.me = self;
  const input = {
    when: new Date("2024-05-06T07:08:09.000Z"),
    tags,
    ids: new Set([1, 2, 3]),
    link: new URL("https://example.com/a?b=c"),
    big: 12345678901234567890n,
    nothing: undefined,
    self,
  };
  const out = deserializeProps(serializeProps(input)) as typeof input;
  assert.ok(out.when instanceof Date);
  assert.equal(out.when.toISOString(), "2024-05-06T07:08:09.000Z");
  assert.ok(out.tags instanceof Map);
  assert.ok(out.tags.get("b") instanceof Date);
  assert.deepEqual([...out.ids], [1, 2, 3]);
  assert.equal(out.link.href, "https://example.com/a?b=c");
  assert.equal(out.big, 12345678901234567890n);
  assert.ok("nothing" in out && out.nothing === undefined);
  assert.equal((out.self as Record<string, unknown>).me, out.self);
});

Deno.test("[fw serialize] signals arrive as signals, one shared signal stays one", () => {
  const shared = signal(0); // falsy value: must still count as a signal
  const other = signal({ n: 2 });
  const doubled = computed(() => other.value.n * 2);
  const props = [{ count: shared, label: "a" }, { count: shared, other, doubled }];
  const [a, b] = deserializeProps(serializeProps(props)) as {
    count: Signal<number>;
    other?: Signal<{ n: number }>;
    doubled?: Signal<number>;
  }[];
  assert.equal(a.count.value, 0);
  assert.equal(a.count, b.count, "shared identity is kept");
  assert.notEqual(a.count, shared, "a new signal, not the server's");
  a.count.value = 5;
  assert.equal(b.count.value, 5);
  assert.deepEqual(b.other?.value, { n: 2 });
  assert.equal(b.doubled?.value, 4, "a computed arrives as a signal holding its value");
});

Deno.test("[fw serialize] output is safe inside a script element", () => {
  const text = serializeProps({ html: "</script><script>alert(1)</script>", "<key>": 1 });
  assert.ok(!text.includes("<"), text);
  const back = deserializeProps(text) as Record<string, unknown>;
  assert.equal(back.html, "</script><script>alert(1)</script>");
  assert.equal(back["<key>"], 1);
});

Deno.test("[fw serialize] slots travel as ids and functions are refused", () => {
  const text = serializeProps({ children: new SlotRef(0), footer: new SlotRef(3) });
  assert.deepEqual(deserializeProps(text, (id) => `slot#${id}`), {
    children: "slot#0",
    footer: "slot#3",
  });
  assert.throws(() => serializeProps({ onClick: () => {} }), /function/);
});
