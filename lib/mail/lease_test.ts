import { strictEqual } from "node:assert/strict";
import { acquireLease, leaseHolder, releaseLease, renewLease } from "./lease.ts";

Deno.test("[lease] one holder at a time; release frees it; renewal keeps it", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    strictEqual(await acquireLease(kv, "a"), true);
    strictEqual(await acquireLease(kv, "b"), false);
    strictEqual(await acquireLease(kv, "a"), true, "re-entrant for its holder");
    strictEqual(await renewLease(kv, "a"), true);
    strictEqual(await renewLease(kv, "b"), false);
    strictEqual((await leaseHolder(kv))?.holder, "a");
    await releaseLease(kv, "b"); // not b's: no effect
    strictEqual((await leaseHolder(kv))?.holder, "a");
    await releaseLease(kv, "a");
    strictEqual(await leaseHolder(kv), null);
    strictEqual(await acquireLease(kv, "b"), true);
  } finally {
    kv.close();
  }
});

Deno.test("[lease] a dead holder's lease expires and can be taken over", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const t0 = Date.now();
    strictEqual(await acquireLease(kv, "dead", 1_000, t0), true);
    strictEqual(await acquireLease(kv, "b", 60_000, t0 + 500), false);
    strictEqual(await acquireLease(kv, "b", 60_000, t0 + 1_001), true);
    strictEqual(await renewLease(kv, "dead"), false, "the old holder learns it lost the lease");
  } finally {
    kv.close();
  }
});
