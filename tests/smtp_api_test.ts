/**
 * The Outgoing Mail API: settings validation, secrets never returned or logged, roles, the test
 * endpoint with unsaved values, and the retry route of a failed delivery.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { agentClient, startTestApp } from "./support/app.ts";
import { startSmtpSink } from "./support/smtp_sink.ts";
import { createTicket } from "../lib/db/messages.ts";
import { keys } from "../lib/db/keys.ts";
import type { OutboxRecord } from "../lib/mail/outbox.ts";

const PASSWORD = "Sm7p-p4ss-never-shown";

Deno.test("[smtp api] settings round trip; the password is write-only and never logged", async () => {
  const t = await startTestApp();
  try {
    const c = await t.client();
    const empty = await c.json("GET", "/api/v1/admin/smtp");
    strictEqual(empty.status, 200);
    strictEqual(empty.body.settings.password_set, false);
    strictEqual(empty.body.settings.host, "");

    const body = {
      host: "smtp.example.com",
      port: 587,
      security: "starttls",
      tls_verify: false,
      username: "desk",
      password: PASSWORD,
      from_address: "help@example.com",
      from_name: "Help",
    };
    const put = await c.json("PUT", "/api/v1/admin/smtp", body);
    strictEqual(put.status, 200);
    const { password: _pw, ...rest } = body;
    deepStrictEqual(put.body.settings, { ...rest, password_set: true });
    const got = await c.json("GET", "/api/v1/admin/smtp");
    deepStrictEqual(got.body.settings, put.body.settings);
    for (const r of [put, got]) ok(!JSON.stringify(r.body).includes(PASSWORD));
    ok(!("password" in got.body.settings));
    // stored sealed, never in the clear
    ok(!JSON.stringify((await t.kv.get(keys.settings("smtp"))).value).includes(PASSWORD));

    // a later save without password keeps it
    const again = await c.json("PUT", "/api/v1/admin/smtp", { port: 2587 });
    strictEqual(again.body.settings.password_set, true);
    strictEqual(again.body.settings.port, 2587);

    // a test with the stored password against a server that is not there: the error names it
    const test = await c.json("POST", "/api/v1/admin/smtp/test", {
      host: "127.0.0.1",
      port: 1,
      security: "none",
    });
    strictEqual(test.status, 200);
    strictEqual(test.body.ok, false);
    ok(/127\.0\.0\.1:1 was refused/.test(test.body.error), test.body.error);
    ok(!JSON.stringify(test.body).includes(PASSWORD));
    ok(t.logs.every((l) => !l.includes(PASSWORD)), "password in logs");
  } finally {
    await t.close();
  }
});

Deno.test("[smtp api] bad input is 422 naming the field; bad JSON is 400", async () => {
  const t = await startTestApp();
  try {
    const c = await t.client();
    const base = { host: "smtp.example.com", from_address: "help@example.com" };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, host: "" }, "host"],
      [{ ...base, port: 0 }, "port"],
      [{ ...base, port: 1.5 }, "port"],
      [{ ...base, security: "ssl" }, "security"],
      [{ ...base, tls_verify: "no" }, "tls_verify"],
      [{ ...base, from_address: "nope" }, "from_address"],
      [{ host: "smtp.example.com" }, "from_address"],
      [{ ...base, from_name: "A\r\nBcc: x@y.example" }, "from_name"],
      [{ ...base, username: "u\r\nRSET" }, "username"],
    ];
    for (const [body, field] of cases) {
      const r = await c.json("PUT", "/api/v1/admin/smtp", body);
      strictEqual(r.status, 422, field);
      strictEqual(r.body.code, "invalid_field");
      strictEqual(r.body.field, field);
      ok(r.body.error.startsWith(`${field}:`), r.body.error);
    }
    const bad = await c.json("PUT", "/api/v1/admin/smtp", "{nope");
    strictEqual(bad.status, 400);
    const badTo = await c.json("POST", "/api/v1/admin/smtp/test", { ...base, to: "not-mail" });
    strictEqual(badTo.status, 422);
    strictEqual(badTo.body.field, "to");
    // nothing was saved by the failed attempts
    strictEqual((await c.json("GET", "/api/v1/admin/smtp")).body.settings.host, "");
  } finally {
    await t.close();
  }
});

Deno.test("[smtp api] agents get 403, anonymous callers 401", async () => {
  const t = await startTestApp();
  try {
    const agent = await agentClient(t);
    for (
      const [m, p] of [
        ["GET", "/api/v1/admin/smtp"],
        ["PUT", "/api/v1/admin/smtp"],
        ["POST", "/api/v1/admin/smtp/test"],
      ]
    ) {
      const body = m === "GET" ? undefined : {};
      strictEqual((await agent.json(m, p, body)).status, 403, `${m} ${p}`);
      strictEqual((await t.anon().json(m, p, body)).status, 401, `${m} ${p}`);
    }
  } finally {
    await t.close();
  }
});

Deno.test("[smtp api] send test uses unsaved values and mails `to` when given", async () => {
  const sink = await startSmtpSink();
  const t = await startTestApp();
  try {
    const c = await t.client();
    const body = {
      host: "127.0.0.1",
      port: sink.port,
      security: "none",
      from_address: "help@desk.example",
      from_name: "Desk",
    };
    const verify = await c.json("POST", "/api/v1/admin/smtp/test", body);
    deepStrictEqual(verify.body, { ok: true });
    strictEqual(sink.messages.length, 0);
    const sent = await c.json("POST", "/api/v1/admin/smtp/test", {
      ...body,
      to: "me@admin.example",
    });
    deepStrictEqual(sent.body, { ok: true });
    deepStrictEqual(sink.messages.map((m) => m.to), [["me@admin.example"]]);
    strictEqual(sink.messages[0].from, "help@desk.example");
    // unsaved
    strictEqual((await c.json("GET", "/api/v1/admin/smtp")).body.settings.host, "");
  } finally {
    await t.close();
    await sink.close();
  }
});

Deno.test("[smtp api] a failed delivery is retried from the API by a helpdesk user", async () => {
  const sink = await startSmtpSink();
  const t = await startTestApp();
  try {
    const admin = await t.client();
    await admin.json("PUT", "/api/v1/admin/smtp", {
      host: "127.0.0.1",
      port: sink.port,
      security: "none",
      from_address: "help@desk.example",
    });
    const res = await createTicket(t.kv, {
      subject: "Hi",
      source: "email",
      from_name: "Cara",
      from_email: "cara@customer.example",
      customer_id: null,
      first: {
        direction: "inbound",
        author_name: "Cara",
        author_email: "cara@customer.example",
        author_user_id: null,
        body_text: "x",
        body_html: null,
        via_email: true,
        message_id: "<q@customer.example>",
        auto: false,
      },
    });
    if (res.duplicate) throw new Error("dup");
    const id = res.ticket.id;
    const agent = await agentClient(t);
    const r = await agent.json("POST", `/api/v1/tickets/${id}/messages`, { body: "answer" });
    const mid = r.body.message.id;
    // wait for it to go out, then pretend it had failed for good
    for (let i = 0; (await t.kv.get(keys.outbox(mid))).value !== null; i++) {
      if (i > 400) throw new Error("not sent");
      await new Promise((r) => setTimeout(r, 25));
    }
    const sentMsg = await agent.json("POST", `/api/v1/tickets/${id}/messages/${mid}/retry`);
    strictEqual(sentMsg.status, 409);
    strictEqual(sentMsg.body.code, "not_failed");

    const mkey = keys.message(id, mid);
    const m = (await t.kv.get<{ delivery: unknown }>(mkey)).value!;
    await t.kv.set(mkey, { ...m, delivery: { status: "failed", attempts: 5, error: "boom" } });
    const record = {
      v: 1,
      ticket_id: id,
      message: mid,
      message_id: r.body.message.message_id,
      to: { email: "cara@customer.example", name: "Cara" },
      subject: `Re: [#${id}] Hi`,
      in_reply_to: "<q@customer.example>",
      references: ["<q@customer.example>"],
      state: "failed",
      attempts: 5,
      in_doubt: 0,
      queued_at: new Date(0).toISOString(),
      next_at: 0,
      lease_until: null,
      last_error: "boom",
    } satisfies OutboxRecord;
    await t.kv.set(keys.outbox(mid), record);

    const retry = await agent.json("POST", `/api/v1/tickets/${id}/messages/${mid}/retry`);
    strictEqual(retry.status, 200);
    deepStrictEqual(retry.body.message.delivery, { status: "queued", attempts: 5, error: null });
    for (let i = 0; (await t.kv.get(keys.outbox(mid))).value !== null; i++) {
      if (i > 400) throw new Error("retry not sent");
      await new Promise((r) => setTimeout(r, 25));
    }
    strictEqual(sink.messages.length, 2);
    const view = await agent.json("GET", `/api/v1/tickets/${id}`);
    const after = view.body.messages.find((x: { id: string }) => x.id === mid);
    deepStrictEqual(after.delivery, { status: "sent", attempts: 6, error: null });

    strictEqual(
      (await agent.json("POST", `/api/v1/tickets/${id}/messages/01NOSUCH/retry`)).status,
      404,
    );
    const noDesk = await agentClient(t, { email: "nodesk@example.test", helpdesk: false });
    strictEqual(
      (await noDesk.json("POST", `/api/v1/tickets/${id}/messages/${mid}/retry`)).status,
      403,
    );
  } finally {
    await t.close();
    await sink.close();
  }
});
