/**
 * The outbox state machine, driven by hand (no queue listener) against KV `:memory:` and a real
 * smtp-server on loopback: claims, crash recovery with the same Message-ID, the in-doubt cap,
 * backoff, giving up, permanent rejections, manual retry.
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { SMTPServer } from "smtp-server";
import { createVault } from "../auth/secrets.ts";
import { buildConfig } from "../config.ts";
import { keys } from "../db/keys.ts";
import { createTicket, getMessageRecord } from "../db/messages.ts";
import { HttpError } from "../fw/mod.ts";
import { replyToTicket } from "../helpdesk.ts";
import type { Services } from "../state.ts";
import { setLogSink } from "../log.ts";
import type { PublicUser } from "../db/users.ts";
import { parseMail } from "./parse.ts";
import { planOutbound, retryDelivery } from "./outbound_plan.ts";
import { saveSmtpSettings } from "./smtp_settings.ts";
import {
  GIVE_UP_AFTER_MS,
  handleOutboundSend,
  kickQueued,
  OUTBOUND_SEND,
  type OutboxRecord,
  RETRY_DELAYS_MS,
  retryDelayMs,
  sweepOutbox,
} from "./outbox.ts";

const AGENT: PublicUser = {
  id: "01AGENT",
  email: "agent@desk.example",
  name: "Alex Agent",
  role: "agent",
  helpdesk_enabled: true,
};

interface Sink {
  port: number;
  raws: Uint8Array[];
  close(): Promise<void>;
}

async function sink(): Promise<Sink> {
  const raws: Uint8Array[] = [];
  const s = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onRcptTo(addr, _s, cb) {
      if (addr.address.startsWith("nobody")) {
        cb(Object.assign(new Error("No such user"), { responseCode: 550 }));
      } else cb();
    },
    onData(stream, _s, cb) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (c: Uint8Array) => chunks.push(c));
      stream.on("end", () => {
        const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let off = 0;
        for (const c of chunks) all.set(c, (off += c.length) - c.length);
        raws.push(all);
        cb();
      });
    },
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  // deno-lint-ignore no-explicit-any
  const port = (s as any).server.address().port as number;
  return { port, raws, close: () => new Promise<void>((r) => s.close(() => r())) };
}

interface Env {
  svc: Services;
  sink: Sink;
  ticketId: number;
  close(): Promise<void>;
}

async function env(opts: { replyTo?: string; port?: number } = {}): Promise<Env> {
  const restoreLog = setLogSink(() => {});
  const kv = await Deno.openKv(":memory:");
  const svc: Services = {
    kv,
    config: buildConfig({}, () => undefined),
    vault: await createVault("unit-test-secret"),
    ext: { planOutbound },
  };
  const s = await sink();
  await saveSmtpSettings(svc, {
    host: "127.0.0.1",
    port: opts.port ?? s.port,
    security: "none",
    from_address: "help@desk.example",
    from_name: "Desk",
  });
  const t = await createTicket(kv, {
    subject: "Broken",
    source: "email",
    from_name: "Cara",
    from_email: "cara@customer.example",
    customer_id: null,
    first: {
      direction: "inbound",
      author_name: "Cara",
      author_email: "cara@customer.example",
      author_user_id: null,
      body_text: "help",
      body_html: null,
      via_email: true,
      message_id: "<q1@customer.example>",
      auto: false,
      reply_to: opts.replyTo ? { email: opts.replyTo, name: "" } : null,
    },
  });
  if (t.duplicate) throw new Error("dup");
  return {
    svc,
    sink: s,
    ticketId: t.ticket.id,
    async close() {
      kv.close();
      await s.close();
      restoreLog();
    },
  };
}

const send = (svc: Services, id: string, kick = false) =>
  handleOutboundSend(svc, { type: OUTBOUND_SEND, id, kick });
const outbox = async (svc: Services, id: string) =>
  (await svc.kv.get<OutboxRecord>(keys.outbox(id))).value;
const delivery = async (svc: Services, id: string) =>
  (await getMessageRecord(svc.kv, id))!.delivery;

async function patchOutbox(svc: Services, id: string, patch: Partial<OutboxRecord>) {
  const cur = (await outbox(svc, id))!;
  await svc.kv.set(keys.outbox(id), { ...cur, ...patch });
}

Deno.test("[outbox] duplicate queue messages send the mail once", async () => {
  const e = await env();
  try {
    const m = await replyToTicket(e.svc, AGENT, e.ticketId, "hi");
    await Promise.all([send(e.svc, m.id), send(e.svc, m.id, true), send(e.svc, m.id)]);
    await send(e.svc, m.id);
    strictEqual(e.sink.raws.length, 1);
    deepStrictEqual(await delivery(e.svc, m.id), { status: "sent", attempts: 1, error: null });
    strictEqual(await outbox(e.svc, m.id), null);
  } finally {
    await e.close();
  }
});

Deno.test("[outbox] a send interrupted by a crash is resent once, with the same Message-ID", async () => {
  const e = await env();
  try {
    const m = await replyToTicket(e.svc, AGENT, e.ticketId, "hi");
    // what a crash after the claim leaves behind: `sending`, its lease run out
    await patchOutbox(e.svc, m.id, { state: "sending", attempts: 1, lease_until: Date.now() - 1 });
    await send(e.svc, m.id);
    strictEqual(e.sink.raws.length, 1);
    strictEqual((await parseMail(e.sink.raws[0])).messageId, m.message_id);
    deepStrictEqual(await delivery(e.svc, m.id), { status: "sent", attempts: 2, error: null });

    // a second interruption is not resent: the mail may already be out twice
    const m2 = await replyToTicket(e.svc, AGENT, e.ticketId, "again");
    await patchOutbox(e.svc, m2.id, {
      state: "sending",
      attempts: 2,
      in_doubt: 1,
      lease_until: Date.now() - 1,
    });
    await send(e.svc, m2.id);
    strictEqual(e.sink.raws.length, 1);
    const d = (await delivery(e.svc, m2.id))!;
    strictEqual(d.status, "failed");
    ok(/may have been delivered/.test(d.error!), d.error!);
    // a person may still retry it: same Message-ID
    const retried = await retryDelivery(e.svc, e.ticketId, m2.id);
    strictEqual(retried.delivery?.status, "queued");
    await send(e.svc, m2.id, true);
    strictEqual(e.sink.raws.length, 2);
    strictEqual((await parseMail(e.sink.raws[1])).messageId, m2.message_id);
    strictEqual((await delivery(e.svc, m2.id))!.status, "sent");
  } finally {
    await e.close();
  }
});

Deno.test("[outbox] a claim still held by another worker is left alone", async () => {
  const e = await env();
  try {
    const m = await replyToTicket(e.svc, AGENT, e.ticketId, "hi");
    await patchOutbox(e.svc, m.id, {
      state: "sending",
      attempts: 1,
      lease_until: Date.now() + 60_000,
    });
    const before = await outbox(e.svc, m.id);
    await send(e.svc, m.id, true);
    strictEqual(e.sink.raws.length, 0);
    deepStrictEqual(await outbox(e.svc, m.id), before);
  } finally {
    await e.close();
  }
});

Deno.test("[outbox] failures back off (first retry within 30 s) and give up after 24 h", async () => {
  const gone = await sink();
  await gone.close();
  const e = await env({ port: gone.port });
  try {
    ok(RETRY_DELAYS_MS[0] <= 30_000);
    for (let i = 1; i < 20; i++) ok(retryDelayMs(i + 1) >= retryDelayMs(i));
    strictEqual(retryDelayMs(100), 30 * 60_000);

    const m = await replyToTicket(e.svc, AGENT, e.ticketId, "hi");
    const t0 = Date.now();
    await send(e.svc, m.id);
    const rec = (await outbox(e.svc, m.id))!;
    strictEqual(rec.state, "queued");
    strictEqual(rec.attempts, 1);
    ok(rec.next_at - t0 <= 30_000 + 1000, "first retry within 30 s");
    ok(rec.next_at > t0, "not at once");
    const d = (await delivery(e.svc, m.id))!;
    strictEqual(d.status, "queued");
    ok(/Connection to 127\.0\.0\.1:\d+ was refused/.test(d.error!), d.error!);

    // an early queue message waits for next_at; a kick does not
    await send(e.svc, m.id);
    strictEqual((await outbox(e.svc, m.id))!.attempts, 1);
    await send(e.svc, m.id, true);
    strictEqual((await outbox(e.svc, m.id))!.attempts, 2);

    // 24 h after it was queued, the next failure is final
    await patchOutbox(e.svc, m.id, {
      queued_at: new Date(Date.now() - GIVE_UP_AFTER_MS - 1000).toISOString(),
    });
    await send(e.svc, m.id, true);
    const last = (await delivery(e.svc, m.id))!;
    strictEqual(last.status, "failed");
    strictEqual(last.attempts, 3);
    ok(/^Gave up after 3 attempts over 24 h: Connection/.test(last.error!), last.error!);
    strictEqual((await outbox(e.svc, m.id))!.state, "failed");
    // final means final: more queue messages change nothing
    await send(e.svc, m.id, true);
    strictEqual((await delivery(e.svc, m.id))!.attempts, 3);
  } finally {
    await e.close();
  }
});

Deno.test("[outbox] a recipient rejected with 5xx fails at once; retry needs a failed delivery", async () => {
  const e = await env({ replyTo: "nobody@customer.example" });
  try {
    const m = await replyToTicket(e.svc, AGENT, e.ticketId, "hi");
    await rejects(retryDelivery(e.svc, e.ticketId, m.id), (err: HttpError) => err.status === 409);
    await send(e.svc, m.id);
    const d = (await delivery(e.svc, m.id))!;
    strictEqual(d.status, "failed");
    strictEqual(d.attempts, 1);
    ok(/Recipient <nobody@customer\.example> was rejected .*550/.test(d.error!), d.error!);
    await rejects(
      retryDelivery(e.svc, e.ticketId, "01NOPE"),
      (err: HttpError) => err.status === 404,
    );
    await rejects(
      retryDelivery(e.svc, e.ticketId + 1, m.id),
      (err: HttpError) => err.status === 404,
    );
  } finally {
    await e.close();
  }
});

Deno.test("[outbox] sweep and kick find what waits; failed records are left alone", async () => {
  const e = await env();
  try {
    await replyToTicket(e.svc, AGENT, e.ticketId, "a");
    const b = await replyToTicket(e.svc, AGENT, e.ticketId, "b");
    const c = await replyToTicket(e.svc, AGENT, e.ticketId, "c");
    await patchOutbox(e.svc, b.id, { next_at: Date.now() + 600_000 });
    await patchOutbox(e.svc, c.id, { state: "failed" });
    strictEqual(await sweepOutbox(e.svc), 1); // a is due; b waits; c is final
    strictEqual(await kickQueued(e.svc), 2); // a and b
  } finally {
    await e.close();
  }
});

Deno.test("[outbox] the planner: headers fixed at reply time, nothing for web tickets", async () => {
  const e = await env();
  try {
    const ticket = (await e.svc.kv.get<import("../db/tickets.ts").TicketRecord>(
      keys.ticket(e.ticketId),
    )).value!;
    const plan = (await planOutbound(e.svc, ticket, "01MSG", AGENT, "x"))!;
    ok(/^<[^@]+@desk\.example>$/.test(plan.message_id));
    strictEqual(plan.in_reply_to, "<q1@customer.example>");
    deepStrictEqual(plan.references, ["<q1@customer.example>"]);
    const rec = plan.outbox.record as OutboxRecord;
    strictEqual(rec.subject, `Re: [#${e.ticketId}] Broken`);
    deepStrictEqual(rec.to, { email: "cara@customer.example", name: "Cara" });
    strictEqual(await planOutbound(e.svc, { ...ticket, source: "web" }, "01M", AGENT, "x"), null);
    strictEqual(
      await planOutbound(e.svc, { ...ticket, reply_target: null }, "01M", AGENT, "x"),
      null,
    );
  } finally {
    await e.close();
  }
});
