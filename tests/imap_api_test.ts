/**
 * The /api/v1/admin/imap routes: settings (defaults, validation naming the field, secrets
 * never returned), Test connection against Dovecot (plain, STARTTLS, TLS, and each kind of
 * failure said precisely), Poll now, roles.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { agentClient, startTestApp, type TestApp } from "./support/app.ts";
import { mail, type MailUser, mailUser, stack, stackCa, testBox } from "./imap_helpers.ts";
import { keys } from "../lib/db/keys.ts";

const PATH = "/api/v1/admin/imap";

async function withApp(fn: (t: TestApp, u: MailUser) => Promise<void>): Promise<void> {
  const u = await mailUser();
  const t = await startTestApp({ start: false });
  try {
    await fn(t, u);
  } finally {
    await t.close();
    await u.release();
  }
}

Deno.test("[imap api] defaults before anything is saved", () =>
  withApp(async (t) => {
    const r = await (await t.client()).json("GET", PATH);
    strictEqual(r.status, 200);
    deepStrictEqual(r.body.settings, {
      host: "",
      port: 993,
      security: "tls",
      tls_verify: true,
      username: "",
      password_set: false,
      mailbox: "INBOX",
      processed_mailbox: "Processed",
      poll_interval: 60,
      auth: "plain",
      provider: null,
      idle: true,
      enabled: true,
      last_poll: null,
    });
  }));

Deno.test("[imap api] PUT saves; the password is sealed and never returned", () =>
  withApp(async (t) => {
    const c = await t.client();
    const secret = "s3cret-Imap-pass";
    const r = await c.json("PUT", PATH, {
      host: "IMAP.Example.test",
      security: "starttls",
      username: "help@example.test",
      password: secret,
      poll_interval: 30,
      idle: false,
    });
    strictEqual(r.status, 200);
    const s = r.body.settings;
    deepStrictEqual(
      [s.host, s.port, s.security, s.password_set, s.poll_interval, s.idle],
      ["imap.example.test", 143, "starttls", true, 30, false],
    );
    const all = JSON.stringify([r.body, (await c.json("GET", PATH)).body]);
    ok(!all.includes(secret) && !all.includes('password"'), all);
    const stored = JSON.stringify((await t.kv.get(keys.settings("imap"))).value);
    ok(!stored.includes(secret), "sealed at rest");
    ok(!t.logs.join("\n").includes(secret), "never logged");
    // omitting the password, or sending it empty or null, keeps it
    strictEqual((await c.json("PUT", PATH, { port: 1143 })).body.settings.password_set, true);
    strictEqual((await c.json("PUT", PATH, { password: "" })).body.settings.password_set, true);
    strictEqual((await c.json("PUT", PATH, { password: null })).body.settings.password_set, true);
    // read-only fields sent back are ignored
    const back = await c.json("PUT", PATH, { ...s, password_set: false, last_poll: null });
    strictEqual(back.status, 200);
    strictEqual(back.body.settings.password_set, true);
  }));

Deno.test("[imap api] bad input is a 422 whose error names the field", () =>
  withApp(async (t) => {
    const c = await t.client();
    const cases: [Record<string, unknown>, string][] = [
      [{ poll_interval: 29 }, "poll_interval"],
      [{ poll_interval: 45.5 }, "poll_interval"],
      [{ poll_interval: "60" }, "poll_interval"],
      [{ port: 0 }, "port"],
      [{ port: 70000 }, "port"],
      [{ security: "ssl" }, "security"],
      [{ tls_verify: "yes" }, "tls_verify"],
      [{ host: "bad host name" }, "host"],
      [{ mailbox: "" }, "mailbox"],
      [{ mailbox: "a\r\nb" }, "mailbox"],
      [{ processed_mailbox: "INBOX" }, "processed_mailbox"],
      [{ auth: "oauth2" }, "provider"],
      [{ auth: "kerberos" }, "auth"],
      [{ provider: "yahoo" }, "provider"],
      [{ idle: 1 }, "idle"],
      [{ enabled: null }, "enabled"],
      [{ username: 5 }, "username"],
    ];
    for (const [body, field] of cases) {
      const r = await c.json("PUT", PATH, body);
      strictEqual(r.status, 422, JSON.stringify(body));
      strictEqual(r.body.code, "invalid_field");
      ok(r.body.error.startsWith(`${field}:`), `${JSON.stringify(body)} → ${r.body.error}`);
    }
    strictEqual((await c.json("PUT", PATH, "{nope")).status, 400);
    // nothing was saved by the rejected requests
    strictEqual((await c.json("GET", PATH)).body.settings.poll_interval, 60);
    strictEqual((await c.json("PUT", PATH, { poll_interval: 30 })).status, 200);
  }));

Deno.test("[imap api] only admins: agents get 403, anonymous 401", () =>
  withApp(async (t) => {
    const agent = await agentClient(t);
    for (
      const [m, p] of [
        ["GET", PATH],
        ["PUT", PATH],
        ["POST", `${PATH}/test`],
        ["POST", `${PATH}/poll`],
        ["GET", `${PATH}/failed`],
      ]
    ) {
      strictEqual((await agent.json(m, p, m === "GET" ? undefined : {})).status, 403, `${m} ${p}`);
      strictEqual(
        (await t.anon().json(m, p, m === "GET" ? undefined : {})).status,
        401,
        `${m} ${p}`,
      );
    }
  }));

Deno.test("[imap api] Test connection over plain, STARTTLS and TLS lists capabilities", () =>
  withApp(async (t, U) => {
    const c = await t.client();
    const base = { host: stack.host, username: U.user, password: U.pass, mailbox: "INBOX" };
    const modes = [
      { security: "none", port: stack.port, tls_verify: false },
      { security: "starttls", port: stack.port, tls_verify: false },
      { security: "tls", port: stack.tlsPort, tls_verify: false },
    ];
    for (const m of modes) {
      const r = await c.json("POST", `${PATH}/test`, { ...base, ...m });
      strictEqual(r.status, 200);
      strictEqual(r.body.ok, true, `${m.security}: ${r.body.error}`);
      strictEqual(r.body.mailbox_exists, true);
      strictEqual(r.body.tls, m.security !== "none", `${m.security} encryption`);
      ok(r.body.capabilities.includes("IDLE"), r.body.capabilities.join(" "));
      ok(r.body.capabilities.includes("MOVE"));
    }
    // with verification on, the stack's CA makes the self-signed certificate trusted
    t.app.svc.ext.imapClientExtras = { ca: stackCa() };
    const v = await c.json("POST", `${PATH}/test`, { ...base, ...modes[2], tls_verify: true });
    strictEqual(v.body.ok, true, v.body.error);
    // the test never saves
    strictEqual((await c.json("GET", PATH)).body.settings.host, "");
  }));

Deno.test("[imap api] Test connection says precisely what is wrong", () =>
  withApp(async (t, U) => {
    const c = await t.client();
    const base = {
      host: stack.host,
      port: stack.port,
      security: "none",
      tls_verify: false,
      username: U.user,
      password: U.pass,
    };
    const expect = async (over: Record<string, unknown>, re: RegExp) => {
      const r = await c.json("POST", `${PATH}/test`, { ...base, ...over });
      strictEqual(r.status, 200);
      strictEqual(r.body.ok, false, JSON.stringify(over));
      ok(re.test(r.body.error), `${JSON.stringify(over)} → ${r.body.error}`);
      return r.body;
    };
    await expect({ password: "wrong" }, /^Authentication failed/);
    await expect({ host: "no-such-host.invalid" }, /^DNS: .*no-such-host\.invalid/);
    await expect({ port: 1 }, /^Connection refused by 127\.0\.0\.1:1/);
    await expect(
      { security: "tls", port: stack.tlsPort, tls_verify: true },
      /^TLS: the certificate/,
    );
    await expect({ security: "tls", port: stack.port }, /does not speak implicit TLS/);
    const missing = await expect(
      { mailbox: "No-Such-Box" },
      /^Mailbox "No-Such-Box" does not exist/,
    );
    strictEqual(missing.mailbox_exists, false);
    ok(missing.capabilities.length > 0, "capabilities are listed even then");
    await expect({ host: "" }, /^host:/);
    // an omitted password means the stored one
    await c.json("PUT", PATH, { ...base, password: U.pass });
    const stored = await c.json("POST", `${PATH}/test`, { ...base, password: undefined });
    strictEqual(stored.body.ok, true, stored.body.error);
    ok(!t.logs.join("\n").includes(U.pass), "the password is never logged");
  }));

Deno.test("[imap api] Poll now answers with the poll's counts and records the last poll", async () => {
  const box = await testBox();
  const U = box.user;
  const t = await startTestApp({ start: false });
  try {
    const c = await t.client();
    strictEqual(
      (await c.json("PUT", PATH, {
        host: stack.host,
        port: stack.port,
        security: "none",
        username: U.user,
        password: U.pass,
        mailbox: box.mailbox,
        processed_mailbox: box.processed,
        enabled: false,
      })).status,
      200,
    );
    await box.append(mail({ subject: "via poll now" }));
    const r = await c.json("POST", `${PATH}/poll`);
    strictEqual(r.status, 200);
    deepStrictEqual(r.body, { ok: true, imported: 1, threaded: 0, skipped: 0, failed: 0 });
    const last = (await c.json("GET", PATH)).body.settings.last_poll;
    deepStrictEqual([last.ok, last.imported, last.failed, last.error], [true, 1, 0, null]);
    ok(!Number.isNaN(Date.parse(last.at)));
    const health = await t.anon().json("GET", "/api/v1/health");
    strictEqual(health.body.imap.last_poll.imported, 1);
    // a broken setting gives ok:false with the reason, and is recorded too
    await c.json("PUT", PATH, { password: "wrong" });
    const bad = await c.json("POST", `${PATH}/poll`);
    deepStrictEqual([bad.status, bad.body.ok], [200, false]);
    ok(bad.body.error.startsWith("Authentication failed"), bad.body.error);
    strictEqual((await c.json("GET", PATH)).body.settings.last_poll.ok, false);
  } finally {
    await t.close();
    await box.close();
  }
});
