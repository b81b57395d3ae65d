import { rejects, strictEqual } from "node:assert/strict";
import { migrate, type Migration } from "./migrate.ts";
import { keys } from "./keys.ts";

Deno.test("[migrate] runs each pending migration once, in order, and records the version", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const ran: number[] = [];
    const list: Migration[] = [1, 2, 3].map((to) => ({
      to,
      name: `m${to}`,
      run: async (k: Deno.Kv) => {
        ran.push(to);
        await k.set(["m", to], true);
      },
    }));
    strictEqual(await migrate(kv, list.slice(0, 2)), 2);
    strictEqual(await migrate(kv, list), 3);
    strictEqual(await migrate(kv, list), 3);
    strictEqual(ran.join(","), "1,2,3");
    strictEqual((await kv.get(keys.schemaVersion())).value, 3);
  } finally {
    kv.close();
  }
});

Deno.test("[migrate] refuses a store written by a newer WarmDesk", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await kv.set(keys.schemaVersion(), 99);
    await rejects(() => migrate(kv), /newer/);
  } finally {
    kv.close();
  }
});
