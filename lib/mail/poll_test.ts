import { deepStrictEqual } from "node:assert/strict";
import { midDedupeKey, sourceBatches, uidSet } from "./poll.ts";
import { dedupeKey } from "./ids.ts";

Deno.test("[poll] UID sets are compressed into ranges", () => {
  deepStrictEqual(uidSet([5, 1, 2, 3, 9, 7, 8, 3]), "1:3,5,7:9");
  deepStrictEqual(uidSet([42]), "42");
  deepStrictEqual(uidSet([]), "");
});

Deno.test("[poll] source batches are bounded by count and bytes; a big mail goes alone", () => {
  const m = (uid: number, size: number) => ({ uid, size, messageId: null });
  const metas = [m(1, 10), m(2, 10), m(3, 10), m(4, 100), m(5, 10)];
  deepStrictEqual(sourceBatches(metas, 2, 1000).map((b) => b.map((x) => x.uid)), [
    [1, 2],
    [3, 4],
    [5],
  ]);
  deepStrictEqual(sourceBatches(metas, 10, 50).map((b) => b.map((x) => x.uid)), [
    [1, 2, 3],
    [4],
    [5],
  ]);
  deepStrictEqual(sourceBatches([], 10, 50), []);
});

Deno.test("[poll] the synchronous Message-ID dedupe key equals ids.ts dedupeKey", async () => {
  for (const id of ["<a@b.example>", "<MiXeD.Case@Host.Example>", "<01HY5@warmdesk.test>"]) {
    deepStrictEqual(midDedupeKey(id), await dedupeKey(id, new Uint8Array([1, 2, 3])));
  }
});
