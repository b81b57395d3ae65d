import { ok, strictEqual } from "node:assert/strict";
import { createSession, deleteSession, getSession } from "./sessions.ts";
import { keys } from "../db/keys.ts";
import { hashPassword, verifyPassword } from "./password.ts";
import { createVault } from "./secrets.ts";

Deno.test("[sessions] a session is found by its token, stored only as a hash, and deleted on logout", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { token } = await createSession(kv, "u1");
    strictEqual((await getSession(kv, token))?.user_id, "u1");
    for await (const e of kv.list({ prefix: ["session"] })) {
      ok(!JSON.stringify(e.key).includes(token));
    }
    strictEqual(await getSession(kv, "f".repeat(64)), null);
    strictEqual(await getSession(kv, "not-a-token"), null);
    await deleteSession(kv, token);
    strictEqual(await getSession(kv, token), null);
  } finally {
    kv.close();
  }
});

Deno.test("[sessions] an expired session counts as absent", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { token } = await createSession(kv, "u1");
    for await (const e of kv.list<{ expires_at: string }>({ prefix: ["session"] })) {
      await kv.set(e.key, { ...e.value, expires_at: new Date(Date.now() - 1000).toISOString() });
    }
    strictEqual(await getSession(kv, token), null);
    strictEqual(keys.session("x")[0], "session");
  } finally {
    kv.close();
  }
});

Deno.test("[password] scrypt hashes verify, differ per salt, and reject wrong passwords", async () => {
  const a = await hashPassword("correct horse");
  const b = await hashPassword("correct horse");
  ok(a !== b);
  ok(a.startsWith("scrypt$"));
  strictEqual(await verifyPassword("correct horse", a), true);
  strictEqual(await verifyPassword("correct hors", a), false);
  strictEqual(await verifyPassword("x", "garbage"), false);
});

Deno.test("[vault] sealed secrets open with the same key only", async () => {
  const v = await createVault("k1");
  const sealed = await v.seal("imap-password");
  ok(!sealed.includes("imap-password"));
  strictEqual(await v.open(sealed), "imap-password");
  const other = await createVault("k2");
  await other.open(sealed).then(() => {
    throw new Error("opened with the wrong key");
  }, () => {});
});
