/** SMTP settings: validation naming the field, merging, and the sealed password. */
import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { HttpError } from "../fw/mod.ts";
import { createVault } from "../auth/secrets.ts";
import { buildConfig } from "../config.ts";
import { keys } from "../db/keys.ts";
import type { Services } from "../state.ts";
import {
  getSmtpRecord,
  parseSmtpInput,
  publicSmtpSettings,
  saveSmtpSettings,
  SMTP_DEFAULTS,
  testConnectionOf,
} from "./smtp_settings.ts";

const good = {
  host: "smtp.example.com",
  port: 587,
  security: "starttls",
  tls_verify: true,
  username: "desk",
  password: "s3cret pass",
  from_address: "Help@Desk.Example",
  from_name: "Desk Team",
};

async function services(): Promise<Services> {
  const kv = await Deno.openKv(":memory:");
  return {
    kv,
    config: buildConfig({}, () => undefined),
    vault: await createVault("unit-test-secret"),
    ext: {},
  };
}

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    ok(e instanceof HttpError);
    strictEqual(e.status, 422);
    return (e as HttpError & { field?: string }).field;
  }
  return undefined;
}

Deno.test("[smtp settings] each bad field is named in a 422", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ host: "" }, "host"],
    [{ host: "smtp example.com" }, "host"],
    [{ host: "smtp.example.com\r\nX: 1" }, "host"],
    [{ port: 0 }, "port"],
    [{ port: 70000 }, "port"],
    [{ port: "25" }, "port"],
    [{ security: "ssl" }, "security"],
    [{ tls_verify: "yes" }, "tls_verify"],
    [{ username: "a\nb" }, "username"],
    [{ password: 42 }, "password"],
    [{ password: "a\r\nQUIT" }, "password"],
    [{ from_address: "not an address" }, "from_address"],
    [{ from_address: "" }, "from_address"],
    [{ from_address: "a@b.example\nBcc: c@d.example" }, "from_address"],
    [{ from_name: "Desk\r\nX-Injected: 1" }, "from_name"],
    [{ from_name: "x".repeat(101) }, "from_name"],
  ];
  for (const [patch, field] of cases) {
    strictEqual(fieldOf(() => parseSmtpInput({ ...good, ...patch }, null)), field, field);
  }
  strictEqual(fieldOf(() => parseSmtpInput(good, null)), undefined);
});

Deno.test("[smtp settings] defaults, port by security mode, IPv6 and IP hosts", () => {
  deepStrictEqual(publicSmtpSettings(null), SMTP_DEFAULTS);
  const base = { host: "mx.example", from_address: "a@b.example" };
  strictEqual(parseSmtpInput({ ...base, security: "tls" }, null).port, 465);
  strictEqual(parseSmtpInput({ ...base, security: "none" }, null).port, 25);
  strictEqual(parseSmtpInput(base, null).port, 587);
  strictEqual(parseSmtpInput({ ...base, host: "127.0.0.1" }, null).host, "127.0.0.1");
  strictEqual(parseSmtpInput({ ...base, host: "[::1]" }, null).host, "::1");
  strictEqual(parseSmtpInput(base, null).from_address, "a@b.example");
  throws(() => parseSmtpInput({ host: "mx.example" }, null), HttpError);
  // a test without `to` does not need a from address
  strictEqual(
    parseSmtpInput({ host: "mx.example" }, null, { requireFrom: false }).host,
    "mx.example",
  );
});

Deno.test("[smtp settings] the password is sealed, kept when omitted, never returned", async () => {
  const svc = await services();
  try {
    const saved = await saveSmtpSettings(svc, good);
    strictEqual(saved.password_set, true);
    strictEqual(saved.from_address, "help@desk.example");
    ok(!JSON.stringify(saved).includes("s3cret"));
    const raw = await svc.kv.get(keys.settings("smtp"));
    ok(!JSON.stringify(raw.value).includes("s3cret"), "stored sealed");
    const rec = (await getSmtpRecord(svc.kv))!;
    strictEqual(await svc.vault.open(rec.password_sealed!), "s3cret pass");

    // merge: only the port changes; omitted, null and empty passwords keep the stored one
    for (const pw of [undefined, null, ""]) {
      const s = await saveSmtpSettings(svc, { port: 2525, password: pw });
      strictEqual(s.port, 2525);
      strictEqual(s.host, "smtp.example.com");
      strictEqual(s.password_set, true);
    }
    const again = (await getSmtpRecord(svc.kv))!;
    strictEqual(await svc.vault.open(again.password_sealed!), "s3cret pass");

    // "Send test" with an omitted password uses the stored one; a given one wins
    const t1 = await testConnectionOf(svc, { host: "other.example" }, false);
    strictEqual(t1.conn.password, "s3cret pass");
    strictEqual(t1.conn.host, "other.example");
    const t2 = await testConnectionOf(svc, { password: "typed" }, false);
    strictEqual(t2.conn.password, "typed");
    // the test saved nothing
    strictEqual((await getSmtpRecord(svc.kv))!.host, "smtp.example.com");

    // an empty username means no authentication and drops the password
    const noAuth = await saveSmtpSettings(svc, { username: "" });
    strictEqual(noAuth.password_set, false);
    strictEqual((await getSmtpRecord(svc.kv))!.password_sealed, null);
    await rejects(saveSmtpSettings(svc, { port: -1 }), HttpError);
  } finally {
    svc.kv.close();
  }
});
